package traces

import (
	"neosim/internal/sharedtest"

	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"neosim/sim/fleet"
)

// groupsString renders groups as "NODESxGPUSxTYPE[names]" joined by spaces.
func groupsString(gs []fleet.Group) string {
	var parts []string
	for _, g := range gs {
		parts = append(parts, fmt.Sprintf("%dx%dx%s[%s]", g.Nodes, g.GPUsPerNode, g.Type, strings.Join(g.Names, " ")))
	}
	return strings.Join(parts, " ")
}

// Generated fixtures in each format: the header line of the real files,
// made-up rows.
var fleetFixtures = []struct {
	format, file, content string
	want                  string // groupsString
	warn                  []string
}{
	{
		format: "canonical", file: "nodes.csv",
		content: "node,gpus,gpu_type\nh1,8,H100\nh2,8,H100\nb1,8,B200\n",
		want:    "2x8xH100-SXM[h1 h2] 1x8xB200[b1]",
	},
	{
		format: "philly", file: "cluster_machine_list.csv",
		content: "machineId, number of GPUs, single GPU mem\nm0,2, 12GB\nm1,8, 24GB\nm2,2, 12GB\nm3,8, 24GB\nm4,0, 24GB\n",
		want:    "2x2xH100-SXM[m0 m2] 2x8xH100-SXM[m1 m3]",
		warn: []string{
			`skipped 1 node without GPUs ("number of gpus" is 0)`,
			"assumed GPU models (the file does not name them): 12GB → P100 on 2 nodes, 24GB → P40 on 2 nodes",
			"GPU models mapped to catalog types: P100 → H100-SXM on 2 nodes, P40 → H100-SXM on 2 nodes",
		},
	},
	{
		format: "philly-revised", file: "revised_machine_list.csv",
		content: ",machineId,number of GPUs\n0,m0,8\n1,m1,4\n2,m2,0\n3,m3,8\n4,m4,3\n",
		want:    "2x8xH100-SXM[m0 m3] 1x4xH100-SXM[m1] 1x3xH100-SXM[m4]",
		warn: []string{
			`skipped 1 node without GPUs ("number of gpus" is 0)`,
			"assumed GPU models (the file does not name them): P40 on 4 nodes",
			"P40 → H100-SXM on 4 nodes",
		},
	},
	{
		format: "openb", file: "openb_node_list_all_node.csv",
		content: "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,262144,0,\nn1,64000,262144,2,P100\nn2,96000,786432,8,G2\nn3,64000,262144,2,P100\nn4,96000,786432,8,A100\n",
		want:    "2x2xH100-SXM[n1 n3] 1x8xH100-SXM[n2] 1x8xA100-80GB[n4]",
		warn: []string{
			`skipped 1 node without GPUs ("gpu" is 0)`,
			"GPU models mapped to catalog types: P100 → H100-SXM on 2 nodes, G2 → H100-SXM on 1 node, A100 → A100-80GB on 1 node",
		},
	},
	{
		format: "pai", file: "pai_machine_spec.csv", // headerless, as published
		content: "c0,CPU,96,512,0\np0,P100,64,512,2\nm0,MISC,96,512,8\np1,P100,64,512,2\n",
		want:    "2x2xH100-SXM[p0 p1] 1x8xH100-SXM[m0]",
		warn:    []string{`skipped 1 node without GPUs ("cap_gpu" is 0)`},
	},
	{
		format: "pai", file: "pai_with_header.csv",
		content: "machine,gpu_type,cap_cpu,cap_mem,cap_gpu\nt0,T4,96,512,2\nv0,V100M32,96,512,8\n",
		want:    "1x2xH100-SXM[t0] 1x8xH100-SXM[v0]",
	},
	{
		format: "pai", file: "pai_bom.csv", // a BOM before a headerless first row
		content: "\uFEFFp0,P100,64,512,2\n",
		want:    "1x2xH100-SXM[p0]",
	},
	{
		format: "spot", file: "node_info_df.csv",
		content: "gpu_model,gpu_capacity_num,cpu_num,node_name\nGPU-series-1,4,192,0\nA10,1,128,1\nA100-SXM4-80GB,8,128,2\nH800,8,128,3\nA800-SXM4-80GB,8,128,4\nA10,1,128,5\n",
		want:    "1x4xH100-SXM[0] 2x1xH100-SXM[1 5] 2x8xA100-80GB[2 4] 1x8xH100-SXM[3]",
		warn:    []string{"GPU-series-1 → H100-SXM on 1 node", "H800 → H100-SXM", "A800-SXM4-80GB → A100-80GB"},
	},
}

func TestReadFleetFormats(t *testing.T) {
	for _, fx := range fleetFixtures {
		t.Run(fx.file, func(t *testing.T) {
			path := writeFile(t, fx.file, fx.content)
			var warn bytes.Buffer
			groups, detected, err := ReadFleet(path, "auto", Options{Warn: &warn})
			if err != nil {
				t.Fatal(err)
			}
			if detected != fx.format {
				t.Errorf("detected %q; want %q", detected, fx.format)
			}
			if got := groupsString(groups); got != fx.want {
				t.Errorf("groups\n got %s\nwant %s", got, fx.want)
			}
			for _, w := range fx.warn {
				if !strings.Contains(warn.String(), w) {
					t.Errorf("warnings %q lack %q", warn.String(), w)
				}
			}
			if len(fx.warn) == 0 && fx.format == "canonical" && warn.Len() > 0 {
				t.Errorf("unexpected warnings %q", warn.String())
			}
			// One line per kind of note.
			for _, line := range strings.Split(strings.TrimSuffix(warn.String(), "\n"), "\n") {
				if line != "" && !strings.HasPrefix(line, "traces: "+path+": ") {
					t.Errorf("warning %q does not start with the file", line)
				}
			}
			if _, err := fleet.New(groups); err != nil {
				t.Errorf("fleet.New: %v", err)
			}
			// Naming the format gives the same groups.
			again, name, err := ReadFleet(path, fx.format, Options{Warn: io.Discard})
			if err != nil || name != fx.format || groupsString(again) != fx.want {
				t.Errorf("ReadFleet(%q) = %s, %q, %v", fx.format, groupsString(again), name, err)
			}
		})
	}
}

func TestReadFleetModelsOverride(t *testing.T) {
	path := writeFile(t, "nodes.csv", "sn,gpu,model\nn1,8,G2\nn2,8,G3\nn3,2,X9\n")
	opts := Options{Warn: io.Discard, Models: map[string]string{"g2": "B200", "X9": "H200"}}
	groups, _, err := ReadFleet(path, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := groupsString(groups), "1x8xB200[n1] 1x8xH100-SXM[n2] 1x2xH200[n3]"; got != want {
		t.Errorf("groups %s; want %s", got, want)
	}
	// A user's mapping wins over a format's own.
	path = writeFile(t, "node_info_df.csv", "gpu_model,gpu_capacity_num,cpu_num,node_name\nH800,8,128,0\n")
	groups, _, err = ReadFleet(path, "spot", Options{Warn: io.Discard, Models: map[string]string{"h800": "H200"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := groupsString(groups), "1x8xH200[0]"; got != want {
		t.Errorf("groups %s; want %s", got, want)
	}
}

func TestReadFleetErrors(t *testing.T) {
	const openb = "sn,cpu_milli,memory_mib,gpu,model\n"
	tests := []struct {
		name, format, file, content string
		line                        int64
		field, msg                  string
	}{
		{"gpus not a number", "", "o.csv", openb + "n1,1,1,8,G2\nn2,1,1,eight,G2\n", 3, "gpu", `"eight" is not a whole number`},
		{"gpus negative", "", "o.csv", openb + "n1,1,1,-2,G2\n", 2, "gpu", "-2 is outside 0..64"},
		{"gpus too many", "", "o.csv", openb + "n1,1,1,65,G2\n", 2, "gpu", "65 is outside 0..64"},
		{"gpus empty", "", "o.csv", openb + "n1,1,1,,G2\n", 2, "gpu", "is empty"},
		{"unknown model", "", "o.csv", openb + "n1,1,1,8,G2\nn2,1,1,8,TPUv5\n", 3, "model", `unknown GPU model "TPUv5"`},
		{"model empty", "", "o.csv", openb + "n1,1,1,8,\n", 2, "model", "is empty on a node with GPUs"},
		{"duplicate node", "", "o.csv", openb + "n1,1,1,8,G2\nn2,1,1,8,G2\nn1,1,1,2,T4\n", 4, "sn", `duplicate node "n1" (first on line 2)`},
		{"duplicate CPU node", "", "o.csv", openb + "n1,1,1,0,\nn1,1,1,0,\n", 3, "sn", `duplicate node "n1" (first on line 2)`},
		{"empty id", "", "o.csv", openb + " ,1,1,8,G2\n", 2, "sn", "is empty"},
		{"missing column", "openb", "o.csv", "sn,cpu_milli,memory_mib,model\nn1,1,1,G2\n", 0, "gpu", `missing required column "gpu"`},
		{"twice", "openb", "o.csv", "sn,gpu,gpu,model\nn1,1,1,G2\n", 1, "gpu", `column "gpu" appears twice`},
		{"field count", "", "o.csv", openb + "n1,1,1,8,G2\nn2,1,8,G2\n", 3, "", "has 4 fields; the header has 5"},
		{"no gpu nodes", "", "o.csv", openb + "n1,1,1,0,\n", 0, "", "no nodes with GPUs (1 rows without GPUs)"},
		{"header only", "", "o.csv", openb, 0, "", "no nodes with GPUs"},
		{"empty file", "openb", "o.csv", "", 0, "", "empty file"},
		{"philly memory", "", "p.csv", "machineId, number of GPUs, single GPU mem\nm0,2, 12GB\nm1,4, 16GB\n", 3, "single gpu mem", `"16GB" is not a known Philly GPU memory`},
		{"philly gpus", "", "p.csv", "machineId, number of GPUs, single GPU mem\nm0,two, 12GB\n", 2, "number of gpus", `"two" is not a whole number`},
		{"revised duplicate", "", "r.csv", ",machineId,number of GPUs\n0,m0,8\n1,m0,4\n", 3, "machineid", `duplicate node "m0" (first on line 2)`},
		{"pai CPU with GPUs", "", "pai.csv", "c0,CPU,96,512,2\n", 1, "gpu_type", `unknown GPU model "CPU"`},
		{"pai headerless bad row", "", "pai.csv", "p0,P100,64,512,2\np1,P100,64,512,x\n", 2, "cap_gpu", `"x" is not a whole number`},
		{"spot unknown model", "", "s.csv", "gpu_model,gpu_capacity_num,cpu_num,node_name\nMI300X,8,128,0\n", 2, "gpu_model", `unknown GPU model "MI300X"`},
		{"canonical", "", "c.csv", "node,gpus,gpu_type\nn1,8,H100\nn1,8,H100\n", 3, "node", "duplicate node"},
		{"unknown header", "", "x.csv", "host,count\nh,8\n", 1, "", "no node-list format recognizes this header (host, count)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.content)
			_, _, err := ReadFleet(path, tt.format, Options{Warn: io.Discard})
			if err == nil {
				t.Fatal("no error")
			}
			e := asError(t, err)
			if e.File != path || e.Line != tt.line || e.Field != tt.field {
				t.Errorf("error at %s:%d field %q; want line %d field %q (%v)", e.File, e.Line, e.Field, tt.line, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q lacks %q", err, tt.msg)
			}
		})
	}
	if _, _, err := ReadFleet("x.csv", "slurm", Options{}); err == nil || !strings.Contains(err.Error(), "formats: auto, canonical, openb, pai, philly, philly-revised, spot") {
		t.Errorf("unknown format: %v", err)
	}
	if _, _, err := ReadFleet(filepath.Join(t.TempDir(), "absent.csv"), "", Options{}); err == nil || !strings.Contains(err.Error(), "cannot open") {
		t.Errorf("absent file: %v", err)
	}
}

func TestDetectFleetHeaders(t *testing.T) {
	tests := []struct{ first, want string }{
		{"node,gpus,gpu_type,rack", "canonical"},
		{"\uFEFFNode,GPUs,GPU_Type", "canonical"},
		{"machineId, number of GPUs, single GPU mem", "philly"},
		{",machineId,number of GPUs", "philly-revised"},
		{"sn,cpu_milli,memory_mib,gpu,model", "openb"},
		{"machine,gpu_type,cap_cpu,cap_mem,cap_gpu", "pai"},
		{"7399a758eb02bae1a3621236,CPU,96,512,0", "pai"},
		{"gpu_model,gpu_capacity_num,cpu_num,node_name", "spot"},
		{"a,b,1,2,x", ""},
		{"job_id,submit_s,gpus,duration_s", ""},
	}
	for _, tt := range tests {
		got, err := detectFleet(&loc{file: "f.csv"}, strings.NewReader(tt.first+"\n"))
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("detect(%q) = %q, %v; want %q", tt.first, got, err, tt.want)
		}
	}
}

func TestFleetAdaptersListed(t *testing.T) {
	var names []string
	for _, a := range FleetAdapters() {
		if a.Doc == "" || a.Read == nil || a.Detect == nil {
			t.Errorf("format %q lacks Doc, Read or Detect", a.Name)
		}
		names = append(names, a.Name)
	}
	if got, want := strings.Join(names, " "), "canonical openb pai philly philly-revised spot"; got != want {
		t.Errorf("formats %s; want %s", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a format twice did not panic")
		}
	}()
	RegisterFleet(FleetAdapter{Name: "openb"})
}

// TestReadFleetPublicNodeLists reads the public node lists and checks the
// totals their SOURCE.md files give.
func TestReadFleetPublicNodeLists(t *testing.T) {
	root := sharedtest.Traces(t)
	tests := []struct {
		file, format  string
		nodes, gpus   int
		skipped       string // the skipped-nodes note, "" if none
		typeGPUs      map[string]int
		nodesWithGPUs map[int]int // GPUs per node → nodes
	}{
		// philly-2017/SOURCE.md: 552 servers, 321 × 2 GPUs and 231 × 8, 2,490 GPUs.
		{"philly-2017/cluster_machine_list.csv", "philly", 552, 2490, "",
			map[string]int{"H100-SXM": 2490}, map[int]int{2: 321, 8: 231}},
		// 8 GPUs on 264 servers, 4 on 271, 0 on 13, 2 on 3, 3 on 1; 3,205 GPUs.
		{"philly-2017/revised_machine_list.csv", "philly-revised", 539, 3205, "skipped 13 nodes",
			map[string]int{"H100-SXM": 3205}, map[int]int{8: 264, 4: 271, 2: 3, 3: 1}},
		// alibaba-openb-2023/SOURCE.md: 1,213 GPU nodes, 6,212 GPUs; 8 → 617
		// nodes, 2 → 518, 4 → 54, 1 → 24; 310 CPU-only nodes in the full list.
		{"alibaba-openb-2023/openb_node_list_gpu_node.csv", "openb", 1213, 6212, "",
			map[string]int{"H100-SXM": 6212}, map[int]int{8: 617, 2: 518, 4: 54, 1: 24}},
		{"alibaba-openb-2023/openb_node_list_all_node.csv", "openb", 1213, 6212, "skipped 310 nodes",
			map[string]int{"H100-SXM": 6212}, map[int]int{8: 617, 2: 518, 4: 54, 1: 24}},
		// alibaba-pai-2020/SOURCE.md: 1,897 machines, 83 CPU-only; 6,742 GPUs;
		// 2 GPUs on 1,295 machines, 8 on 519.
		{"alibaba-pai-2020/pai_machine_spec.csv", "pai", 1814, 6742, "skipped 83 nodes",
			map[string]int{"H100-SXM": 6742}, map[int]int{2: 1295, 8: 519}},
		// alibaba-spot-gpu-2026/SOURCE.md: 4,278 nodes, 10,412 GPUs; A100-80GB
		// 3,456 GPUs and A800 176 (as A100-80GB); 1 GPU on 3,396 nodes, 8 on
		// 872, 4 on 10.
		{"alibaba-spot-gpu-2026/node_info_df.csv", "spot", 4278, 10412, "",
			map[string]int{"A100-80GB": 3456 + 176, "H100-SXM": 10412 - 3456 - 176}, map[int]int{1: 3396, 8: 872, 4: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			path := filepath.Join(root, tt.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s absent: %v", path, err)
			}
			var warn bytes.Buffer
			groups, detected, err := ReadFleet(path, "", Options{Warn: &warn})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d groups; notes:\n%s", tt.file, len(groups), warn.String())
			if detected != tt.format {
				t.Errorf("detected %q; want %q", detected, tt.format)
			}
			nodes, gpus := 0, 0
			typeGPUs := map[string]int{}
			perNode := map[int]int{}
			for _, g := range groups {
				nodes += g.Nodes
				gpus += g.Nodes * g.GPUsPerNode
				typeGPUs[g.Type] += g.Nodes * g.GPUsPerNode
				perNode[g.GPUsPerNode] += g.Nodes
			}
			if nodes != tt.nodes || gpus != tt.gpus {
				t.Errorf("%d nodes, %d GPUs; want %d, %d", nodes, gpus, tt.nodes, tt.gpus)
			}
			if fmt.Sprint(typeGPUs) != fmt.Sprint(tt.typeGPUs) || fmt.Sprint(perNode) != fmt.Sprint(tt.nodesWithGPUs) {
				t.Errorf("GPUs per type %v, nodes per GPU count %v; want %v, %v", typeGPUs, perNode, tt.typeGPUs, tt.nodesWithGPUs)
			}
			if tt.skipped != "" && !strings.Contains(warn.String(), tt.skipped) {
				t.Errorf("notes %q lack %q", warn.String(), tt.skipped)
			}
			if tt.skipped == "" && strings.Contains(warn.String(), "skipped") {
				t.Errorf("notes %q skip nodes", warn.String())
			}
			f, err := fleet.New(groups)
			if err != nil {
				t.Fatal(err)
			}
			if f.Nodes() != tt.nodes || f.GPUs() != tt.gpus {
				t.Errorf("fleet has %d nodes, %d GPUs; want %d, %d", f.Nodes(), f.GPUs(), tt.nodes, tt.gpus)
			}
		})
	}
}

// TestReadFleetOpenbListsAgree checks that openb's full node list gives the
// GPU-node list's groups (node names differ between the two files).
func TestReadFleetOpenbListsAgree(t *testing.T) {
	dir := filepath.Join(sharedtest.Traces(t), "alibaba-openb-2023")
	shape := func(name string) string {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Skipf("%s absent: %v", path, err)
		}
		groups, _, err := ReadFleet(path, "openb", Options{Warn: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, g := range groups {
			fmt.Fprintf(&b, "%dx%dx%s ", g.Nodes, g.GPUsPerNode, g.Type)
		}
		return b.String()
	}
	if gpu, all := shape("openb_node_list_gpu_node.csv"), shape("openb_node_list_all_node.csv"); gpu != all {
		t.Errorf("GPU-node list %s; full list %s", gpu, all)
	}
}

// FuzzReadFleet feeds arbitrary bytes to every CSV node-list parser: none
// may panic, errors are *Error values, and what they accept builds a fleet.
func FuzzReadFleet(f *testing.F) {
	for _, fx := range fleetFixtures {
		f.Add([]byte(fx.content))
	}
	f.Add([]byte("sn,gpu,model\nn1,8,G2\nn1,8,G2\n"))
	f.Add([]byte("sn,gpu,model\nn1,99999999999999999999,G2\n"))
	f.Add([]byte("machineId, number of GPUs, single GPU mem\nm0,2,\"12\nGB\"\n"))
	f.Add([]byte("p0,P100,64,512,2\np1,P100,64,512\n"))
	f.Add([]byte("\uFEFF\"unterminated\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := detectFleet(&loc{file: "fuzz.csv"}, bytes.NewReader(data)); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("detect error %v is a %T, not an *Error", err, err)
			}
		}
		for _, a := range FleetAdapters() {
			name := a.Name
			var groups []fleet.Group
			var err error
			l := &loc{file: "fuzz.csv"}
			if name == "canonical" {
				groups, err = readNodeList(l, bytes.NewReader(data), io.Discard)
			} else {
				groups, err = nodeTables[name].readFrom(l, bytes.NewReader(data), Options{Warn: io.Discard})
			}
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("%s: error %v is a %T, not an *Error", name, err, err)
				}
				continue
			}
			if _, err := fleet.New(groups); err != nil {
				t.Fatalf("%s: accepted groups %s that fleet.New rejects: %v", name, groupsString(groups), err)
			}
		}
	})
}
