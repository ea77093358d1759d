package workloads

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"gonum.org/v1/gonum/stat"

	"neosim/sim"
	"neosim/sim/fleet"
)

// ksCrit is the Kolmogorov–Smirnov critical value at α = 0.001 for n
// samples: √(−ln(α/2)/2)/√n (asymptotic; conservative for discrete data).
func ksCrit(n int) float64 { return math.Sqrt(-math.Log(0.001/2)/2) / math.Sqrt(float64(n)) }

// ksStat returns the one-sample KS statistic of sample against d, exactly:
// a choice distribution is compared as a weighted reference sample
// (gonum's two-sample statistic handles the ties of discrete data); a
// continuous one through its gonum CDF.
func ksStat(t *testing.T, sample []float64, d *Dist) float64 {
	t.Helper()
	x := slices.Clone(sample)
	slices.Sort(x)
	if d.vals != nil {
		w := make([]float64, len(d.vals))
		prev := 0.0
		for i := range d.vals {
			w[i], prev = d.cumul[i]-prev, d.cumul[i]
		}
		v := slices.Clone(d.vals)
		return stat.KolmogorovSmirnov(x, nil, v, w)
	}
	cdf, ok := d.q.(interface{ CDF(float64) float64 })
	if !ok {
		t.Fatalf("%s: no CDF", d)
	}
	n := float64(len(x))
	var dmax float64
	for i, v := range x {
		f := cdf.CDF(v)
		dmax = max(dmax, float64(i+1)/n-f, f-float64(i)/n)
	}
	return dmax
}

// drain pulls every job from a source.
func drain(t testing.TB, f *Frontier, seed uint64, until sim.Time) []sim.JobSpec {
	t.Helper()
	src, err := f.Source(seed, until)
	if err != nil {
		t.Fatal(err)
	}
	var out []sim.JobSpec
	var j sim.JobSpec
	for src.Next(&j) {
		out = append(out, j)
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func className(id string) string { return id[:strings.LastIndexByte(id, '-')] }

func TestYoungDalyMTTI(t *testing.T) {
	// SOURCES.md §3a/§3d: Llama 3 on 16,384 GPUs, M = 1,296 h / 419 = 3.09 h;
	// C = 148.8 s → τ ≈ 30 min; C = 6.3 s → τ ≈ 6 min.
	m := JobMTTI(16384, DefaultInterruptionsPerGPUHour)
	if got := m.Hours(); math.Abs(got-1296.0/419) > 1e-6 {
		t.Errorf("JobMTTI(16384) = %.4f h, want 3.093 h", got)
	}
	if got := JobMTTI(1, DefaultInterruptionsPerGPUHour).Hours(); math.Abs(got-21233664.0/419) > 1e-3 {
		t.Errorf("JobMTTI(1) = %.0f GPU-h, want ≈50,700 (§3a MTBI)", got)
	}
	m309 := sim.FromSeconds(3.09 * 3600)
	for _, c := range []struct {
		cost, mtti sim.Time
		want, tol  float64 // minutes
	}{
		{sim.FromSeconds(148.8), m309, 30, 0.5},
		{sim.FromSeconds(6.3), m309, 6.2, 0.1},
		{sim.FromSeconds(6.3), m, 6.2, 0.1},
	} {
		if got := YoungDaly(c.cost, c.mtti).Seconds() / 60; math.Abs(got-c.want) > c.tol {
			t.Errorf("YoungDaly(%v, %v) = %.2f min, want %.1f", c.cost, c.mtti, got, c.want)
		}
	}
	if got := YoungDaly(0, m); got != 0 {
		t.Errorf("YoungDaly(0, M) = %v, want 0", got)
	}
	if got := YoungDaly(sim.Second, sim.Forever); got != sim.Forever {
		t.Errorf("YoungDaly(C, Forever) = %v, want Forever", got)
	}
	if got := JobMTTI(0, 1e-5); got != sim.Forever {
		t.Errorf("JobMTTI(0) = %v, want Forever", got)
	}
}

// TestFrontierKS checks each class's GPU counts, durations and
// inter-arrival times against its configured distributions (KS at
// α = 0.001, fixed seed). Every class gets the same rate so that each has
// a few thousand jobs, pre-training included.
func TestFrontierKS(t *testing.T) {
	f := &Frontier{Classes: DefaultFrontierClasses()}
	const rate = 50.0
	for i := range f.Classes {
		f.Classes[i].Share, f.Classes[i].RatePerHour = 0, rate
	}
	jobs := drain(t, f, 7, 80*sim.Hour)
	type series struct{ gpus, dur, gaps []float64 }
	by := map[string]*series{}
	last := map[string]sim.Time{}
	for _, j := range jobs {
		c := className(j.ID)
		s := by[c]
		if s == nil {
			s = &series{}
			by[c] = s
		}
		s.gpus = append(s.gpus, float64(j.GPUs))
		s.dur = append(s.dur, j.Work.Seconds())
		s.gaps = append(s.gaps, (j.Submit - last[c]).Seconds())
		last[c] = j.Submit
	}
	for i := range f.Classes {
		c := &f.Classes[i]
		s := by[c.Name]
		if s == nil || len(s.gpus) < 2000 {
			t.Fatalf("class %s: too few jobs", c.Name)
		}
		gap := mustDist("exp:" + strconv.FormatFloat(3600/rate, 'g', -1, 64))
		for _, k := range []struct {
			what   string
			sample []float64
			d      *Dist
		}{{"gpus", s.gpus, &c.GPUs}, {"duration_s", s.dur, &c.Duration}, {"inter-arrival", s.gaps, &gap}} {
			d, crit := ksStat(t, k.sample, k.d), ksCrit(len(k.sample))
			if d > crit {
				t.Errorf("class %s %s: KS D = %.4f > %.4f (n = %d, %s)", c.Name, k.what, d, crit, len(k.sample), k.d)
			}
		}
	}
	// The test has power: it tells pre-training durations from research ones.
	if d := ksStat(t, by["pretrain"].dur, &f.Classes[1].Duration); d < ksCrit(len(by["pretrain"].dur)) {
		t.Errorf("KS does not tell pretrain durations from research ones (D = %.4f)", d)
	}
}

// TestFrontierHeadline generates half a year of the default mix and checks
// the §3c headline: most jobs on 1 GPU, most GPU-time in jobs >8 GPUs, and
// the Seren/Kalos duration median and mean, within the ranges documented
// in docs/workloads.md.
func TestFrontierHeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("long window")
	}
	f := &Frontier{}
	src, err := f.Source(1, 180*sim.Day)
	if err != nil {
		t.Fatal(err)
	}
	var (
		j                     sim.JobSpec
		n, one, le8           int
		gpuTime, gt8, gt64    float64
		durs                  []float64 // all but pre-training
		pretrain, durSum, big int
	)
	for src.Next(&j) {
		n++
		gt := float64(j.GPUs) * j.Work.Seconds()
		gpuTime += gt
		switch {
		case j.GPUs == 1:
			one++
			le8++
		case j.GPUs <= 8:
			le8++
		default:
			gt8 += gt
		}
		if j.GPUs > 64 {
			gt64 += gt
		}
		if j.Tenant == "pretrain" {
			pretrain++
			if j.GPUs >= 8192 {
				big++
			}
		} else {
			durs = append(durs, j.Work.Seconds())
			durSum += int(j.Work.Seconds())
		}
	}
	oneShare, le8Share := float64(one)/float64(n), float64(le8)/float64(n)
	gt8Share, gt64Share := gt8/gpuTime, gt64/gpuTime
	slices.Sort(durs)
	median, mean := durs[len(durs)/2], float64(durSum)/float64(len(durs))
	t.Logf("%d jobs (%d pretrain, %d ≥8192 GPUs): 1-GPU %.3f, ≤8 GPUs %.3f; GPU-time >8 %.3f, >64 %.3f; duration median %.0f s mean %.0f s",
		n, pretrain, big, oneShare, le8Share, gt8Share, gt64Share, median, mean)
	for _, c := range []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"1-GPU job share (§3c Seren 54%, Kalos 86%)", oneShare, 0.54, 0.86},
		{"≤8-GPU job share (§3c Kalos 94%, Seren 97%)", le8Share, 0.94, 0.97},
		{"GPU-time share of jobs >8 GPUs (§3c Seren 88%, Kalos 99.4%)", gt8Share, 0.88, 0.994},
		{"GPU-time share of jobs >64 GPUs (§3c Seren 72%, Kalos 97%)", gt64Share, 0.72, 0.97},
		{"median duration, s (§3c Seren 122, Kalos 124; docs ≈121)", median, 100, 145},
		{"mean duration, s (§3c Kalos 1,260, Seren 1,414; docs ≈1,380)", mean, 1150, 1600},
		{"pre-training runs in 180 days (3 per 30 days)", float64(pretrain), 8, 28},
	} {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f, want in [%v, %v]", c.what, c.got, c.min, c.max)
		}
	}
}

// TestFrontierExpected pins the shares documented in docs/workloads.md.
func TestFrontierExpected(t *testing.T) {
	exp, err := (&Frontier{}).Expected()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		class              string
		jobShare, gpuShare float64 // percent, as documented
		busy               float64
	}{
		{"eval", 55.0, 0.17, 28.4},
		{"research", 43.0, 2.6, 445},
		{"finetune", 2.0, 22.7, 3862},
		{"pretrain", 0.00083, 74.5, 12671},
	}
	for i, w := range want {
		e := exp[i]
		if e.Class != w.class ||
			math.Abs(100*e.JobShare-w.jobShare) > 0.01*w.jobShare+1e-4 ||
			math.Abs(100*e.GPUTimeShare-w.gpuShare) > 0.05 ||
			math.Abs(e.BusyGPUs-w.busy) > 0.01*w.busy {
			t.Errorf("class %d: got %s jobs %.4f%% GPU-time %.2f%% busy %.0f; docs say %s %.4f%% %.2f%% %.0f",
				i, e.Class, 100*e.JobShare, 100*e.GPUTimeShare, e.BusyGPUs, w.class, w.jobShare, w.gpuShare, w.busy)
		}
	}
}

func TestFrontierDeterminism(t *testing.T) {
	f := &Frontier{DiurnalAmplitude: 0.5, WeekendFactor: 0.5}
	const until = 3 * sim.Day
	a, b, c := drain(t, f, 42, until), drain(t, f, 42, until), drain(t, f, 43, until)
	if len(a) < 30000 {
		t.Fatalf("only %d jobs in 3 days", len(a))
	}
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different jobs")
	}
	if len(a) == len(c) && slices.Equal(a[:100], c[:100]) {
		t.Fatal("different seeds, same jobs")
	}
	ids := map[string]bool{}
	for i, j := range a {
		if i > 0 && j.Submit < a[i-1].Submit {
			t.Fatalf("job %d (%s) at %v before job %d at %v", i, j.ID, j.Submit, i-1, a[i-1].Submit)
		}
		if j.Submit < 0 || j.Submit >= until {
			t.Fatalf("job %s at %v, outside [0, %v)", j.ID, j.Submit, until)
		}
		if ids[j.ID] {
			t.Fatalf("duplicate ID %s", j.ID)
		}
		ids[j.ID] = true
		if j.GPUs < 1 || j.Work <= 0 || j.Segment != sim.SegInternal || j.Milli != fleet.FullGPU ||
			j.GPUTypes != 0 || j.Tenant != className(j.ID) || j.Checkpoint < 0 {
			t.Fatalf("bad job %+v", j)
		}
	}
	// MaxJobs stops the stream; no horizon is then fine.
	f.MaxJobs = 1000
	if got := drain(t, f, 42, 0); len(got) != 1000 || !slices.Equal(got, a[:1000]) {
		t.Fatalf("max_jobs: got %d jobs, or not the first 1000", len(got))
	}
}

// TestFrontierCommonRandomNumbers: a class's k-th job has the same shape
// whatever the arrival settings or the other classes (metamorphic).
func TestFrontierCommonRandomNumbers(t *testing.T) {
	shapes := func(f *Frontier, until sim.Time) map[string][2]int64 {
		out := map[string][2]int64{}
		for _, j := range drain(t, f, 5, until) {
			out[j.ID] = [2]int64{int64(j.GPUs), int64(j.Work)}
		}
		return out
	}
	base := shapes(&Frontier{}, sim.Day)
	alt := &Frontier{RatePerHour: 250, DiurnalAmplitude: 0.8, WeekendFactor: 0.3,
		Classes: DefaultFrontierClasses()[1:2]} // research alone, at a different rate
	other := shapes(alt, 3*sim.Day)
	var n int
	for id, s := range other {
		if b, ok := base[id]; ok {
			n++
			if b != s {
				t.Fatalf("%s: shape %v, was %v", id, s, b)
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d jobs in common", n)
	}
}

func TestFrontierDiurnal(t *testing.T) {
	const a, w = 0.6, 0.4
	f := &Frontier{DiurnalAmplitude: a, WeekendFactor: w, PeakHour: 14,
		Classes: []FrontierClass{{Name: "r", RatePerHour: 200, Diurnal: true,
			GPUs: mustDist("const:1"), Duration: mustDist("const:60")}}}
	jobs := drain(t, f, 3, 28*sim.Day)
	var hour [24]float64
	var weekend float64
	for _, j := range jobs {
		h := int(j.Submit/sim.Hour) % 24
		hour[h]++
		if (j.Submit/sim.Day)%7 >= 5 {
			weekend++
		}
	}
	n, want := float64(len(jobs)), 200*28*24.0
	if math.Abs(n-want) > 5*math.Sqrt(want) {
		t.Errorf("%v jobs, want %v ± 5σ: the cycle must keep the mean rate", n, want)
	}
	// Hour 14 is the peak, hour 2 the trough: ratio ≈ (1+A)/(1−A) = 4
	// (averaged over the hour, ≈3.9).
	if r := hour[14] / hour[2]; r < 3.3 || r > 4.6 {
		t.Errorf("peak/trough = %.2f, want ≈ %.2f", r, (1+a)/(1-a))
	}
	if got, want := weekend/n, 2*w/7; math.Abs(got-want) > 0.01 {
		t.Errorf("weekend share %.3f, want %.3f", got, want)
	}
}

func TestFrontierCheckpoints(t *testing.T) {
	f := &Frontier{}
	f.EnsureDefaults()
	for i := range f.Classes {
		f.Classes[i].Share, f.Classes[i].RatePerHour = 0, 20
	}
	var pre, ft, ftCk, evalCk int
	for _, j := range drain(t, f, 9, 100*sim.Hour) {
		switch j.Tenant {
		case "eval":
			if j.Checkpoint != 0 {
				evalCk++
			}
		case "pretrain":
			pre++
			want := YoungDaly(sim.FromSeconds(CheckpointCostAsync), JobMTTI(int(j.GPUs), DefaultInterruptionsPerGPUHour))
			if j.Checkpoint != want {
				t.Fatalf("%s on %d GPUs: checkpoint %v, want %v", j.ID, j.GPUs, j.Checkpoint, want)
			}
			// 2,048 GPUs: M = 24.7 h, τ ≈ 17.6 min; 16,384: τ ≈ 6.2 min.
			if m := j.Checkpoint.Seconds() / 60; m < 6 || m > 18 {
				t.Fatalf("%s on %d GPUs: checkpoint every %.1f min", j.ID, j.GPUs, m)
			}
		case "finetune":
			ft++
			if j.Checkpoint != 0 {
				ftCk++
				if j.Checkpoint >= j.Work {
					t.Fatalf("%s: checkpoint %v ≥ work %v", j.ID, j.Checkpoint, j.Work)
				}
			}
		}
	}
	if pre == 0 || evalCk != 0 || ftCk == 0 || ftCk == ft {
		t.Fatalf("pretrain %d, eval with checkpoints %d, finetune %d of which %d checkpoint", pre, evalCk, ft, ftCk)
	}
	// MaxGPUs caps sizes; checkpoints follow the capped size.
	f.MaxGPUs = 1000
	for _, j := range drain(t, f, 9, 100*sim.Hour) {
		if j.GPUs > 1000 {
			t.Fatalf("%s: %d GPUs above max_gpus", j.ID, j.GPUs)
		}
	}
}

func TestFrontierValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(f *Frontier)
		want string
	}{
		{func(f *Frontier) { f.RatePerHour = -1 }, "rate_per_hour: must be > 0"},
		{func(f *Frontier) { f.RatePerHour = math.Inf(1) }, "rate_per_hour: must be > 0"},
		{func(f *Frontier) { f.InterruptionsPerGPUHour = -1 }, "interruptions_per_gpu_hour: must be > 0"},
		{func(f *Frontier) { f.DiurnalAmplitude = 1 }, "diurnal_amplitude: must be in [0, 1)"},
		{func(f *Frontier) { f.PeakHour = 25 }, "peak_hour: must be in [0, 24]"},
		{func(f *Frontier) { f.WeekendFactor = 3.5 }, "weekend_factor: must be in (0, 3.5)"},
		{func(f *Frontier) { f.MaxGPUs = -1 }, "max_gpus: must be ≥ 0"},
		{func(f *Frontier) { f.MaxJobs = -1 }, "max_jobs: must be ≥ 0"},
		{func(f *Frontier) { f.Classes[0].Name = "" }, "classes[0].name: required"},
		{func(f *Frontier) { f.Classes[2].Name = "eval" }, `classes[2].name: duplicate class "eval"`},
		{func(f *Frontier) { f.Classes[1].Share = 0 }, "classes[1].share: must be > 0"},
		{func(f *Frontier) { f.Classes[1].Share = math.NaN() }, "classes[1].share: must be > 0"},
		{func(f *Frontier) { f.Classes[3].RatePerHour = -2 }, "classes[3].rate_per_hour: must be > 0"},
		{func(f *Frontier) { f.Classes[3].Share = 1 }, "classes[3].rate_per_hour: set share or rate_per_hour, not both"},
		{func(f *Frontier) { f.Classes[0].GPUs = Dist{} }, "classes[0].gpus: required"},
		{func(f *Frontier) { f.Classes[0].Duration = Dist{} }, "classes[0].duration_s: required"},
		{func(f *Frontier) { f.Classes[2].CheckpointCostS = -1 }, "classes[2].checkpoint_cost_s: must be ≥ 0"},
		{func(f *Frontier) { f.Classes[2].CheckpointMinGPUs = -1 }, "classes[2].checkpoint_min_gpus: must be ≥ 0"},
		{func(f *Frontier) { f.Classes[3].GPUType = "Z9000" }, `classes[3].gpu_type: unknown GPU type "Z9000"`},
	} {
		f := &Frontier{}
		f.EnsureDefaults()
		if err := f.Validate(); err != nil {
			t.Fatalf("defaults: %v", err)
		}
		c.edit(f)
		err := f.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Validate() = %v, want %q…", err, c.want)
		}
		if _, err := f.Source(1, sim.Day); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Source() = %v, want it to say %q", err, c.want)
		}
	}
	if _, err := (&Frontier{}).Source(1, 0); err == nil || !strings.Contains(err.Error(), "horizon or max_jobs") {
		t.Errorf("Source(until 0, no max_jobs) = %v, want an error", err)
	}
	// Source and Expected default a copy; the receiver is left alone.
	f := &Frontier{}
	if _, err := f.Source(1, sim.Day); err != nil || f.Name != "" || f.Classes != nil {
		t.Errorf("Source modified its receiver (%v)", err)
	}
}

// TestFrontierYAML: the example in docs/workloads.md is the defaults.
func TestFrontierYAML(t *testing.T) {
	const doc = `
name: frontier
rate_per_hour: 500
interruptions_per_gpu_hour: 1.9733e-5
peak_hour: 14
weekend_factor: 1
classes:
  - name: eval
    share: 0.55
    gpus: "choice:1=0.9,2=0.04,4=0.03,8=0.03"
    duration_s: "lognormal:90:1.5"
    priority: 10
    diurnal: true
  - name: research
    share: 0.43
    gpus: "choice:1=0.6,2=0.1,4=0.1,8=0.15,16=0.03,32=0.015,64=0.005"
    duration_s: "lognormal:180:2.2"
    priority: 10
    checkpoint_cost_s: 148.8
    diurnal: true
  - name: finetune
    share: 0.02
    gpus: "choice:16=0.3,32=0.25,64=0.2,128=0.15,256=0.07,512=0.03"
    duration_s: "lognormal:10800:1"
    priority: 50
    checkpoint_cost_s: 148.8
  - name: pretrain
    rate_per_hour: 0.0041666666666666666
    gpus: "choice:2048=4,4096=3,8192=2,16384=1"
    duration_s: "lognormal:1814400:0.5"
    priority: 100
    checkpoint_cost_s: 6.3
`
	var f Frontier
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	def := Frontier{}
	def.EnsureDefaults()
	f.InterruptionsPerGPUHour = def.InterruptionsPerGPUHour // printed rounded
	a, b := drain(t, &f, 1, 2*sim.Day), drain(t, &def, 1, 2*sim.Day)
	if !slices.Equal(a, b) {
		t.Fatal("the documented YAML does not reproduce the defaults")
	}
	out, err := yaml.Marshal(&def)
	if err != nil || !strings.Contains(string(out), `gpus: choice:2048=4,4096=3,8192=2,16384=1`) {
		t.Fatalf("marshal: %v\n%s", err, out)
	}
}

func BenchmarkFrontierNext(b *testing.B) {
	src, err := (&Frontier{}).Source(1, sim.Forever)
	if err != nil {
		b.Fatal(err)
	}
	var j sim.JobSpec
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !src.Next(&j) {
			b.Fatal("source ended")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}
