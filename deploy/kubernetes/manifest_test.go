package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"neosim/experiment"
)

// object is one decoded manifest document and where it came from.
type object struct {
	where string // file:document
	obj   runtime.Object
}

// decodeStrict decodes every YAML document of data into the typed objects
// of the core/v1 and batch/v1 APIs. Unknown kinds, unknown fields and
// duplicate fields are errors.
func decodeStrict(name string, data []byte) ([]object, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, batchv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	ser := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []object
	for doc := 1; ; doc++ {
		b, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(b))) == 0 {
			continue
		}
		where := name + ":" + strconv.Itoa(doc)
		obj, _, err := ser.Decode(b, nil, nil)
		if err != nil {
			return nil, errors.New(where + ": " + err.Error())
		}
		out = append(out, object{where, obj})
	}
}

// stripComments drops the comment lines of a YAML document.
func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l...)
		}
	}
	return out
}

// manifests decodes every *.yaml file of this folder.
func manifests(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var all []object
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeStrict(f, b)
		if err != nil {
			t.Fatalf("strict decoding: %v", err)
		}
		all = append(all, objs...)
	}
	return all
}

func TestStrictDecodingRejects(t *testing.T) {
	// The decoder must reject what a cluster's strict field validation
	// rejects: otherwise the test below proves nothing.
	for _, bad := range []string{
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {completionsMode: Indexed}\n",                   // misspelled field
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {completions: 1, completions: 2}\n",             // duplicate field
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {completions: \"5\"}\n",                         // wrong type
		"apiVersion: batch/v1\nkind: Jobs\nmetadata: {name: x}\n",                                                    // unknown kind
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n---\napiVersion: v1\nkind: Pod\nx: 1\n", // 2nd document
	} {
		if _, err := decodeStrict("bad.yaml", []byte(bad)); err == nil {
			t.Errorf("accepted:\n%s", bad)
		}
	}
	objs, err := decodeStrict("good.yaml", []byte("# c\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n"))
	if err != nil || len(objs) != 1 {
		t.Fatalf("a valid ConfigMap: %d objects, %v", len(objs), err)
	}
}

// flagValue returns the argument after flag in args.
func flagValue(args []string, flag string) (string, bool) {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return "", false
	}
	return args[i+1], true
}

// mountedFrom returns the volume mounted at the mount path that holds p.
func mountedFrom(c corev1.Container, vols []corev1.Volume, p string) (corev1.Volume, corev1.VolumeMount, bool) {
	for _, m := range c.VolumeMounts {
		if rel, err := filepath.Rel(m.MountPath, p); err == nil && !strings.HasPrefix(rel, "..") {
			for _, v := range vols {
				if v.Name == m.Name {
					return v, m, true
				}
			}
		}
	}
	return corev1.Volume{}, corev1.VolumeMount{}, false
}

func TestManifests(t *testing.T) {
	var (
		cms  = map[string]*corev1.ConfigMap{}
		pvcs = map[string]*corev1.PersistentVolumeClaim{}
		jobs = map[string]*batchv1.Job{}
	)
	for _, o := range manifests(t) {
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			cms[v.Name] = v
		case *corev1.PersistentVolumeClaim:
			pvcs[v.Name] = v
		case *batchv1.Job:
			jobs[v.Name] = v
		default:
			t.Errorf("%s: a %T, which this test does not check", o.where, v)
		}
	}
	sweep, merge := jobs["neosim-sweep"], jobs["neosim-merge"]
	if sweep == nil || merge == nil {
		t.Fatalf("jobs %v, want neosim-sweep and neosim-merge", slices.Sorted(func(yield func(string) bool) {
			for k := range jobs {
				if !yield(k) {
					return
				}
			}
		}))
	}

	// The sweep: an Indexed Job whose shard count neosim can read.
	s := sweep.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		mode := "unset"
		if s.CompletionMode != nil {
			mode = string(*s.CompletionMode)
		}
		t.Fatalf("neosim-sweep: completionMode %s, want Indexed (it sets JOB_COMPLETION_INDEX)", mode)
	}
	if s.Completions == nil || *s.Completions < 1 {
		t.Fatalf("neosim-sweep: completions %v, want the number of shards", s.Completions)
	}
	n := int(*s.Completions)
	if s.Parallelism != nil && (*s.Parallelism < 1 || int(*s.Parallelism) > n) {
		t.Errorf("neosim-sweep: parallelism %d, want 1 to completions (%d)", *s.Parallelism, n)
	}
	if s.BackoffLimitPerIndex != nil && s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("neosim-sweep: backoffLimitPerIndex needs restartPolicy Never, have %q", s.Template.Spec.RestartPolicy)
	}
	pod := s.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("neosim-sweep: %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	args := append(slices.Clone(c.Command), c.Args...)
	if len(args) < 2 || path.Base(args[0]) != "neosim" || args[1] != "sweep" {
		t.Fatalf("neosim-sweep: runs %q, want neosim sweep", args)
	}
	if !slices.Contains(args, "--resume") {
		t.Errorf("neosim-sweep: %q lacks --resume (a retried pod would redo its finished runs)", args)
	}
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--shard") }) {
		t.Errorf("neosim-sweep: %q: --shard would override the pod's index", args)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Errorf("neosim-sweep: env %s from %v, want a value", e.Name, e.ValueFrom)
		}
		env[e.Name] = e.Value
	}
	if env["JOB_COMPLETIONS"] != strconv.Itoa(n) {
		t.Errorf("neosim-sweep: JOB_COMPLETIONS=%q, want completions = %d (neosim's shard count)", env["JOB_COMPLETIONS"], n)
	}
	if _, ok := env["JOB_COMPLETION_INDEX"]; ok {
		t.Errorf("neosim-sweep: sets JOB_COMPLETION_INDEX, which Kubernetes sets per pod")
	}

	// The sweep file: from the ConfigMap, a valid sweep with a run for
	// every shard.
	file, ok := flagValue(args, "-f")
	if !ok {
		file, ok = flagValue(args, "--file")
	}
	if !ok {
		t.Fatalf("neosim-sweep: %q has no -f SWEEP.yaml", args)
	}
	vol, mount, ok := mountedFrom(c, pod.Volumes, file)
	if !ok || vol.ConfigMap == nil {
		t.Fatalf("neosim-sweep: the sweep file %s is not on a ConfigMap volume", file)
	}
	cm := cms[vol.ConfigMap.Name]
	if cm == nil {
		t.Fatalf("neosim-sweep: ConfigMap %q is not in the manifests", vol.ConfigMap.Name)
	}
	key, _ := filepath.Rel(mount.MountPath, file)
	yml, ok := cm.Data[key]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %q (the sweep file %s)", cm.Name, key, file)
	}
	sw, err := experiment.ParseSweep(file, []byte(yml), experiment.SweepOverrides{})
	if err != nil {
		t.Fatalf("ConfigMap %s, %s: %v", cm.Name, key, err)
	}
	if sw.Runs() < n {
		t.Errorf("the sweep has %d runs for %d shards: some pods would idle", sw.Runs(), n)
	}

	// The output: on a ReadWriteMany claim defined here, which the merge
	// job mounts and merges.
	out, ok := flagValue(args, "--out")
	if !ok {
		t.Fatalf("neosim-sweep: %q has no --out on the shared volume", args)
	}
	vol, mount, ok = mountedFrom(c, pod.Volumes, out)
	if !ok || vol.PersistentVolumeClaim == nil {
		t.Fatalf("neosim-sweep: --out %s is not on a volume claim", out)
	}
	claim := vol.PersistentVolumeClaim.ClaimName
	pvc := pvcs[claim]
	if pvc == nil {
		t.Fatalf("claim %q is not in the manifests", claim)
	}
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("claim %s: access modes %v, want ReadWriteMany (every shard's pod writes at once)", claim, pvc.Spec.AccessModes)
	}
	if mount.ReadOnly {
		t.Errorf("neosim-sweep: %s is mounted read-only", mount.MountPath)
	}

	mp := merge.Spec.Template.Spec
	if len(mp.Containers) != 1 {
		t.Fatalf("neosim-merge: %d containers, want 1", len(mp.Containers))
	}
	margs := append(slices.Clone(mp.Containers[0].Command), mp.Containers[0].Args...)
	if len(margs) != 3 || path.Base(margs[0]) != "neosim" || margs[1] != "merge" {
		t.Fatalf("neosim-merge: runs %q, want neosim merge FOLDER", margs)
	}
	mvol, mmount, ok := mountedFrom(mp.Containers[0], mp.Volumes, margs[2])
	if !ok || mvol.PersistentVolumeClaim == nil || mvol.PersistentVolumeClaim.ClaimName != claim {
		t.Fatalf("neosim-merge: %s is not on claim %s", margs[2], claim)
	}
	// The same folder of the claim: the paths relative to the mounts agree.
	r1, _ := filepath.Rel(mount.MountPath, out)
	r2, _ := filepath.Rel(mmount.MountPath, margs[2])
	if r1 != r2 {
		t.Errorf("neosim-merge merges %s of the claim, the sweep writes %s", r2, r1)
	}
	if c.Image != mp.Containers[0].Image {
		t.Errorf("images differ: sweep %s, merge %s (a merge must run the sweep's neosim version)", c.Image, mp.Containers[0].Image)
	}
}
