package frag

import (
	"math"
	"math/rand/v2"
	"testing"
)

func node(free ...uint16) Node { return Node{CPU: 1 << 40, Memory: 1 << 40, Free: free} }

func TestFrag(t *testing.T) {
	n := node(1000, 500, 0)
	small := n
	small.CPU = 4000
	typed := n
	typed.Model = 3
	for _, c := range []struct {
		name string
		n    Node
		t    Task
		want int64
	}{
		// 1 GPU × 600 can run on GPU 0; GPUs 1 and 2 (500 and 0 free) are
		// unusable to it.
		{"1x600", n, Task{GPUs: 1, Milli: 600}, 500},
		// 1 × 400 can use GPUs 0 and 1; GPU 2 has nothing left.
		{"1x400", n, Task{GPUs: 1, Milli: 400}, 0},
		// 1 × 1000 can use GPU 0 only.
		{"1x1000", n, Task{GPUs: 1, Milli: 1000}, 500},
		// 2 whole GPUs cannot run: every free milli is a fragment.
		{"2x1000", n, Task{GPUs: 2, Milli: 1000}, 1500},
		// A CPU-only task uses no GPU.
		{"cpu-only", n, Task{CPU: 1000}, 1500},
		// Too little CPU: the task cannot run.
		{"cpu-short", small, Task{CPU: 8000, GPUs: 1, Milli: 600}, 1500},
		{"cpu-enough", small, Task{CPU: 4000, GPUs: 1, Milli: 600}, 500},
		// Model 3 is not allowed.
		{"model", typed, Task{GPUs: 1, Milli: 600, Models: 1<<1 | 1<<2}, 1500},
		{"model-ok", typed, Task{GPUs: 1, Milli: 600, Models: 1 << 3}, 500},
		// Memory does not count (the authors' measure ignores it).
		{"memory", Node{CPU: 1 << 40, Memory: 0, Free: []uint16{1000, 500, 0}}, Task{Memory: 1 << 20, GPUs: 1, Milli: 600}, 500},
		{"no-gpus", node(), Task{GPUs: 1, Milli: 100}, 0},
	} {
		if got := Frag(c.n, c.t); got != c.want {
			t.Errorf("%s: Frag(%v, %+v) = %d, want %d", c.name, c.n.Free, c.t, got, c.want)
		}
	}
}

func TestFits(t *testing.T) {
	n := Node{CPU: 8000, Memory: 1024, Model: 2, Free: []uint16{1000, 500, 0}}
	for _, c := range []struct {
		t    Task
		want bool
	}{
		{Task{GPUs: 1, Milli: 600}, true},
		{Task{GPUs: 2, Milli: 500}, true},
		{Task{GPUs: 2, Milli: 600}, false},
		{Task{GPUs: 2, Milli: 1000}, false},
		{Task{CPU: 8000, Memory: 1024}, true},
		{Task{CPU: 8001}, false},
		{Task{Memory: 1025}, false},
		{Task{GPUs: 1, Milli: 100, Models: 1 << 1}, false},
		{Task{GPUs: 1, Milli: 100, Models: 1<<1 | 1<<2}, true},
	} {
		if got := Fits(n, c.t); got != c.want {
			t.Errorf("Fits(%+v) = %v, want %v", c.t, got, c.want)
		}
	}
}

// w3 is a workload of three shapes used by the hand computations below.
var w3 = Workload{
	Shapes: []Task{{GPUs: 1, Milli: 600}, {GPUs: 1, Milli: 400}, {GPUs: 2, Milli: 1000}},
	P:      []float64{0.5, 0.3, 0.2},
}

func TestExpected(t *testing.T) {
	// 0.5·500 + 0.3·0 + 0.2·1500
	if got := w3.Expected(node(1000, 500, 0)); got != 550 {
		t.Errorf("F = %v, want 550", got)
	}
	var e Eval
	if got := w3.Eval(node(1000, 500, 0), &e); got != 550 {
		t.Errorf("Eval F = %v, want 550", got)
	}
}

func TestChooseGPU(t *testing.T) {
	// A 1 × 400 task on {1000, 500, 0} under w3:
	//   GPU 0 → {600, 500, 0}: f = 500, 0, 1100 → F′ = 250 + 0 + 220 = 470
	//   GPU 1 → {1000, 100, 0}: f = 100, 100, 1100 → F′ = 50 + 30 + 220 = 300
	// F = 550, so GPU 1 (Δ = −250) beats GPU 0 (Δ = −80).
	c, ok := w3.Choose(node(1000, 500, 0), Task{GPUs: 1, Milli: 400}, nil)
	if !ok || c.Mask != 1<<1 || math.Abs(c.Delta-(-250)) > 1e-9 {
		t.Errorf("Choose = %+v, %v; want GPU 1 with Δ −250", c, ok)
	}
	// Two GPUs with equal free milli: the lower index.
	c, _ = w3.Choose(node(0, 700, 700), Task{GPUs: 1, Milli: 400}, nil)
	if c.Mask != 1<<1 {
		t.Errorf("tie: mask %b, want GPU 1", c.Mask)
	}
	// Whole GPUs: the lowest-index wholly free ones.
	c, _ = w3.Choose(node(300, 1000, 1000, 1000), Task{GPUs: 2, Milli: 1000}, nil)
	if c.Mask != 0b0110 {
		t.Errorf("whole: mask %b, want 0110", c.Mask)
	}
	if _, ok := w3.Choose(node(300, 1000), Task{GPUs: 2, Milli: 1000}, nil); ok {
		t.Error("a task that does not fit was placed")
	}
}

func TestChooseNode(t *testing.T) {
	// A 1 × 500 task under a workload of whole-GPU tasks only:
	//   A = {1000, 1000}: either GPU → {500, 1000}: F 0 → 500, Δ = +500
	//   B = {1000, 500}:  GPU 1 → {1000, 0}: F 500 → 0, Δ = −500
	//                     GPU 0 → {500, 500}: F 500 → 1000, Δ = +500
	// FGD puts it on B's GPU 1: it fills the fragment.
	w := Workload{Shapes: []Task{{GPUs: 1, Milli: 1000}}, P: []float64{1}}
	task := Task{GPUs: 1, Milli: 500}
	a, _ := w.Choose(node(1000, 1000), task, nil)
	b, _ := w.Choose(node(1000, 500), task, nil)
	if a.Delta != 500 || b.Delta != -500 || b.Mask != 1<<1 {
		t.Errorf("A: %+v, B: %+v; want Δ +500 and −500 on GPU 1", a, b)
	}
}

func TestTypical(t *testing.T) {
	counts := []Count{
		{Task{CPU: 1000, GPUs: 1, Milli: 500}, 50},
		{Task{CPU: 1000, Memory: 7, GPUs: 1, Milli: 500}, 10}, // memory is not part of a shape
		{Task{CPU: 2000}, 20},
		{Task{CPU: 4000, GPUs: 8, Milli: 1000}, 15},
		{Task{CPU: 1000, GPUs: 1, Milli: 1000}, 5},
		{Task{GPUs: 2, Milli: 1000}, 0},
	}
	// Sorted: 1x500 (60), cpu (20), 8x1000 (15), 1x1000 (5). 95 of 100
	// tasks are reached with the first three.
	w := Typical(counts, 0.95)
	if w.Len() != 3 {
		t.Fatalf("%d shapes, want 3: %+v", w.Len(), w.Shapes)
	}
	want := []Task{{CPU: 1000, GPUs: 1, Milli: 500}, {CPU: 2000}, {CPU: 4000, GPUs: 8, Milli: 1000}}
	wantP := []float64{60.0 / 95, 20.0 / 95, 15.0 / 95}
	for i := range want {
		if w.Shapes[i] != want[i] || math.Abs(w.P[i]-wantP[i]) > 1e-12 {
			t.Errorf("shape %d = %+v p %v, want %+v p %v", i, w.Shapes[i], w.P[i], want[i], wantP[i])
		}
	}
	if all := Typical(counts, 1); all.Len() != 4 {
		t.Errorf("coverage 1: %d shapes, want 4", all.Len())
	}
	// Ties sort by larger CPU, then larger milli.
	tie := Typical([]Count{{Task{CPU: 1, GPUs: 1, Milli: 300}, 5}, {Task{CPU: 1, GPUs: 1, Milli: 700}, 5}, {Task{CPU: 2}, 5}}, 1)
	if tie.Shapes[0].CPU != 2 || tie.Shapes[1].Milli != 700 {
		t.Errorf("tie order %+v", tie.Shapes)
	}
	if empty := Typical(nil, 0.95); empty.Len() != 0 {
		t.Errorf("no tasks: %d shapes", empty.Len())
	}
}

// TestAfterMatchesExpected checks the O(shapes) update against a direct
// computation of F on the node after placement (metamorphic: two ways,
// the same number), on random nodes, tasks and workloads.
func TestAfterMatchesExpected(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	millis := []uint16{0, 50, 100, 250, 320, 470, 500, 650, 810, 1000}
	task := func() Task {
		switch r.IntN(4) {
		case 0:
			return Task{CPU: int64(r.IntN(8)) * 1000}
		case 1:
			return Task{CPU: int64(r.IntN(8)) * 1000, GPUs: 1 << r.IntN(4), Milli: FullGPU, Models: ModelSet(r.IntN(4))}
		default:
			return Task{CPU: int64(r.IntN(8)) * 1000, GPUs: 1, Milli: millis[1+r.IntN(len(millis)-1)], Models: ModelSet(r.IntN(4))}
		}
	}
	var e Eval
	for i := range 2000 {
		var counts []Count
		for range 1 + r.IntN(10) {
			counts = append(counts, Count{task(), int64(1 + r.IntN(20))})
		}
		w := Typical(counts, 0.5+r.Float64()/2)
		n := Node{CPU: int64(r.IntN(16)) * 1000, Memory: 1 << 30, Model: r.IntN(3), Free: make([]uint16, 1+r.IntN(8))}
		for g := range n.Free {
			n.Free[g] = millis[r.IntN(len(millis))]
		}
		tk := task()
		c, ok := w.Choose(n, tk, &e)
		if ok != Fits(n, tk) {
			t.Fatalf("case %d: Choose ok %v, Fits %v", i, ok, !ok)
		}
		if !ok {
			continue
		}
		after := Place(n, tk, c.Mask)
		if got, want := w.Expected(n)+c.Delta, w.Expected(after); math.Abs(got-want) > 1e-6 {
			t.Fatalf("case %d: F(n)+Δ = %v, F(n′) = %v (node %v, task %+v, mask %b)", i, got, want, n.Free, tk, c.Mask)
		}
		// No other GPU of a shared task does better.
		if tk.Shared() {
			for g, fr := range n.Free {
				if fr >= tk.Milli {
					if alt := w.Expected(Place(n, tk, 1<<g)); alt < w.Expected(after)-1e-6 {
						t.Fatalf("case %d: GPU %d gives F′ %v < chosen %v", i, g, alt, w.Expected(after))
					}
				}
			}
		}
	}
}

func TestPlaceDoesNotModify(t *testing.T) {
	n := node(1000, 500)
	p := Place(n, Task{CPU: 5, GPUs: 1, Milli: 300}, 1<<1)
	if n.Free[1] != 500 || p.Free[1] != 200 || p.CPU != n.CPU-5 {
		t.Errorf("Place: %v → %v", n, p)
	}
}

func BenchmarkChoose(b *testing.B) {
	var counts []Count
	for i, m := range []uint16{1000, 500, 250, 810, 470, 320, 650} {
		counts = append(counts, Count{Task{GPUs: 1, Milli: m}, int64(10 - i)})
	}
	counts = append(counts, Count{Task{GPUs: 8, Milli: 1000}, 3}, Count{Task{GPUs: 4, Milli: 1000}, 2})
	w := Typical(counts, 1)
	n := node(1000, 1000, 500, 250, 1000, 190, 1000, 0)
	var e Eval
	b.ReportAllocs()
	for b.Loop() {
		w.Choose(n, Task{GPUs: 1, Milli: 250}, &e)
	}
}
