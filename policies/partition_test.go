package policies_test

import (
	"strings"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
	"neosim/workloads"
)

// TestPartitionNeverSellsTheReservedShare runs heavy external demand
// against internal work and samples every minute: external jobs never hold
// more than (1 − internal_share) of the fleet, while internal jobs do use
// more than their share when external demand leaves room.
func TestPartitionNeverSellsTheReservedShare(t *testing.T) {
	dist := policies.DistOf(t)
	patience := dist("exp:3600") // keeps the external queue short
	for _, share := range []float64{0.5, 0.3, 0.75} {
		ws := []workloads.Poisson{
			// External demand alone would fill the fleet twice over.
			{Name: "od", Segment: "on-demand", RatePerHour: 40, GPUs: dist("choice:1=2,2=1,4=1,8=1"), Duration: dist("exp:3600"), Patience: &patience},
			{Name: "spot", Segment: "spot", RatePerHour: 40, GPUs: dist("const:1"), GPUMilli: 500, Duration: dist("exp:1800"), Patience: &patience},
			// Internal work comes in bursts of large gangs.
			{Name: "in", Segment: "internal", RatePerHour: 2, GPUs: dist("choice:8=1,16=2,24=1"), Duration: dist("exp:7200")},
		}
		var srcs []sim.Source
		horizon := 2 * sim.Day
		for i := range ws {
			s, err := ws[i].Source(3, horizon)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, s)
		}
		f, err := fleet.New([]fleet.Group{{Nodes: 4, GPUsPerNode: 8, Type: "H100"}, {Nodes: 2, GPUsPerNode: 4, Type: "B200"}})
		if err != nil {
			t.Fatal(err)
		}
		a, err := policies.Allocators.NewWith("partition", map[string]any{"internal_share": share})
		if err != nil {
			t.Fatal(err)
		}
		l := &schedLog{runs: map[string][]run{}, ended: map[string]sim.Job{}}
		cfg := sim.Config{CheckInvariants: true, Horizon: horizon, SampleInterval: sim.Minute}
		if err := sim.New(cfg, f, a, nil, srcs, l).Run(); err != nil {
			t.Fatal(err)
		}
		limit := (1 - share) * float64(f.GPUs()) * fleet.FullGPU
		var maxExt, maxIn int64
		for _, s := range l.samples {
			var ext int64
			for seg := sim.Segment(0); seg < sim.NumSegments; seg++ {
				if seg.External() {
					ext += s.BusyMilli[seg]
				}
			}
			if float64(ext) > limit+1e-6 {
				t.Errorf("share %v: at %v external jobs hold %d milli-GPU, above the cap %.0f", share, s.T, ext, limit)
			}
			maxExt = max(maxExt, ext)
			maxIn = max(maxIn, s.BusyMilli[sim.SegInternal])
		}
		if float64(maxExt) < limit-8*fleet.FullGPU {
			t.Errorf("share %v: external use peaked at %d milli-GPU, far below the cap %.0f: the demand is not heavy", share, maxExt, limit)
		}
		if in := float64(maxIn); in <= share*float64(f.GPUs())*fleet.FullGPU {
			t.Errorf("share %v: internal use peaked at %d milli-GPU, never above its share", share, maxIn)
		}
		t.Logf("share %v: external peak %d / cap %.0f, internal peak %d of %d", share, maxExt, limit, maxIn, f.GPUs()*fleet.FullGPU)
	}
}

// TestPartitionLanes: an external job over the cap blocks the external
// jobs behind it, not the internal ones; internal jobs use every GPU.
func TestPartitionLanes(t *testing.T) {
	l := schedRun(t, "2x8xH100", &policies.Partition{InternalShare: 0.5}, 0,
		job("e1", sim.SegOnDemand, 0, 10*sim.Hour, 8),           // the whole external half
		job("e2", sim.SegSpot, sim.Second, sim.Hour, 2),         // over the cap: waits
		job("i1", sim.SegInternal, 2*sim.Second, sim.Hour, 4),   // not blocked by e2
		job("e3", sim.SegOnDemand, 3*sim.Second, sim.Hour, 1),   // behind e2 in its lane
		job("i2", sim.SegInternal, 4*sim.Second, 2*sim.Hour, 4), // internal fills the fleet
	)
	for id, want := range map[string]sim.Time{"e1": 0, "i1": 2 * sim.Second, "i2": 4 * sim.Second, "e2": 10 * sim.Hour, "e3": 10 * sim.Hour} {
		if got := l.first(id); got != want {
			t.Errorf("%s started at %v, want %v", id, got, want)
		}
	}
	// A blocked internal job stops the pass: external jobs do not take the
	// GPUs it waits for, even under the cap.
	l = schedRun(t, "2x8xH100", &policies.Partition{InternalShare: 0.5}, 0,
		job("i1", sim.SegInternal, 0, sim.Hour, 12),
		job("i2", sim.SegInternal, sim.Second, sim.Hour, 8),
		job("e1", sim.SegOnDemand, 2*sim.Second, sim.Hour, 4),
	)
	if got := l.first("e1"); got < l.first("i2") {
		t.Errorf("external job started at %v, before the blocked internal job ahead of it (%v)", got, l.first("i2"))
	}
}

func TestPartitionParams(t *testing.T) {
	for _, bad := range []any{-0.1, 1.5, "half"} {
		if _, err := policies.Allocators.NewWith("partition", map[string]any{"internal_share": bad}); err == nil {
			t.Errorf("internal_share %v accepted", bad)
		}
	}
	_, err := policies.Allocators.NewWith("partition", map[string]any{"internal_shre": 0.5})
	if err == nil || !strings.Contains(err.Error(), "internal_shre") {
		t.Errorf("misspelt parameter: %v", err)
	}
	a, _ := policies.Allocators.New("partition")
	if got := a.(*policies.Partition).InternalShare; got != 0.5 {
		t.Errorf("default internal_share %v, want 0.5", got)
	}
	p := &policies.Partition{InternalShare: 0.3}
	if got := p.ExternalCapMilli(10); got != 7000 {
		t.Errorf("cap for share 0.3 of 10 GPUs: %d milli, want 7000", got)
	}
}
