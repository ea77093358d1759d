package econ_test

import (
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/econ"
	"neosim/sim/fleet"
)

// TestBillingByGPUUsed runs jobs that may use any GPU type on a mixed
// fleet whose H100s are taken: they land on B200 and pay B200 prices,
// reserved contracts included; a spot job preempted on H100 and restarted
// on B200 pays each type's price for its time on each, and is costed on
// each type.
func TestBillingByGPUUsed(t *testing.T) {
	h100, _ := fleet.LookupType("H100")
	b200, _ := fleet.LookupType("B200")
	list := func(tp fleet.TypeID) float64 { return fleet.Catalog[tp].ListUSDPerHour }
	f := mustFleet(t, "1x8xH100,2x8xB200")
	onlyH100 := fleet.Only(h100)
	jobs := []sim.JobSpec{
		// t=0: the spot job (any type) takes the H100 node, the first type.
		{ID: "spot", Submit: 0, GPUs: 8, Segment: sim.SegSpot, Work: 3 * sim.Hour, Customer: "s"},
		// t=0: internal work holds one B200 node for 2 h.
		{ID: "busy", Submit: 0, GPUs: 8, GPUTypes: fleet.Only(b200), Segment: sim.SegInternal, Work: 2 * 2200 * sim.Hour / 1000},
		// On-demand and a reserved contract, any type: the H100 node is
		// taken, so they land on the free B200 node (one after the other).
		{ID: "od", Submit: sim.Minute, GPUs: 4, Segment: sim.SegOnDemand, Work: 2200 * sim.Hour / 1000, Customer: "o"},
		{ID: "rsv", Submit: sim.Minute, GPUs: 4, Segment: sim.SegReserved, Work: sim.Hour, Hold: true, Customer: "r"},
		// t=30 min: internal work that needs the H100 node preempts spot,
		// which restarts on B200 when "busy" ends at 2 h.
		{ID: "h100", Submit: 30 * sim.Minute, GPUs: 8, GPUTypes: onlyH100, Segment: sim.SegInternal, Priority: 100, Work: 10 * sim.Hour},
	}
	l, err := econ.NewLedger(econ.DefaultCostModel(), f)
	if err != nil {
		t.Fatal(err)
	}
	flat, _ := policies.Pricers.New("flat")
	alloc, _ := policies.Allocators.New("priority")
	ran := map[string][]fleet.TypeID{}
	obs := runTypes(ran)
	e := sim.New(sim.Config{CheckInvariants: true, Horizon: 12 * sim.Hour}, f, alloc, flat, []sim.Source{&listSource{jobs: jobs}}, l, obs)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	r := l.Report(e.Stats().End)
	if got := ran["od"]; len(got) != 1 || got[0] != b200 {
		t.Fatalf("od ran on %v, want B200 once", got)
	}
	if got := ran["rsv"]; len(got) != 1 || got[0] != b200 {
		t.Fatalf("rsv ran on %v, want B200 once", got)
	}
	if got := ran["spot"]; len(got) != 2 || got[0] != h100 || got[1] != b200 {
		t.Fatalf("spot ran on %v, want H100 then B200", got)
	}
	// On-demand: 4 GPUs × 1 h on B200 (2.2 H100-hours of work at speed
	// 2.2) at the B200 list price, not H100's.
	near(t, "on-demand revenue", r.Segments[sim.SegOnDemand].RevenueUSD, 4*1*list(b200))
	// Reserved: 4 GPUs × its 1-h term at the B200 list × (1 − 0.41).
	near(t, "reserved revenue", r.Segments[sim.SegReserved].RevenueUSD, 4*1*roundMicro(list(b200)*(1-policies.DefaultReservedDiscount)))
	// Spot: 30 min on H100, then the rest of its work on B200 from 2 h:
	// no checkpoint, so 3 h of H100 work / 2.2 (plus the restart overhead,
	// 0 here).
	spotB200 := 3.0 / 2.2
	want := 8 * (0.5*roundMicro(list(h100)*policies.DefaultSpotRatio) + spotB200*roundMicro(list(b200)*policies.DefaultSpotRatio))
	if got := r.Segments[sim.SegSpot].RevenueUSD; got < want-1e-5 || got > want+1e-5 {
		t.Errorf("spot revenue = %.6f, want %.6f (each type's price for its time on it)", got, want)
	}
	// Costed per type too: depreciation is each type's GPU-hours × its rate.
	m := econ.DefaultCostModel()
	rate := func(tp fleet.TypeID) float64 { return m.Capex(tp) / (m.Life(tp) * econ.HoursPerYear) }
	near(t, "spot depreciation", r.Segments[sim.SegSpot].Cost.Capex, 8*(0.5*rate(h100)+spotB200*rate(b200)))
}

func roundMicro(usd float64) float64 { return float64(int64(usd*1e6+0.5)) / 1e6 }

// runTypes records the GPU type of every run of every job.
type runTypes map[string][]fleet.TypeID

func (r runTypes) JobStarted(*sim.Job)                {}
func (r runTypes) JobEnded(*sim.Job)                  {}
func (r runTypes) Sampled(*sim.Sample)                {}
func (r runTypes) RunEnded(j *sim.Job, _, _ sim.Time) { r[j.ID] = append(r[j.ID], j.Type) }
