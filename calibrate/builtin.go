package calibrate

import (
	"fmt"

	"neosim/sim/econ"
	"neosim/sim/fleet"
)

// BuiltinDate dates the built-in profiles: the latest reading date
// SOURCES.md gives (§1b prices, 2026-09-20); its §4 rows carry none.
const BuiltinDate = "2026-09-20"

const builtinSource = "../shared/calibration/SOURCES.md §4: public nvidia-smi dumps (idle), AcmeTrace DCGM power (A100 fleet), Zeus NSDI'23 traces (power caps); TDP from §2"

const builtinNote = "NOT MEASUREMENTS. idle_w is the catalog's (the midpoint of public nvidia-smi idle readings), full_w the TDP " +
	"(an upper bound: busy training GPUs draw near it, §4), exponent 1 (linear, the model sim/econ has always used), and caps the " +
	"Zeus NSDI'23 V100 medians (the only public power-cap data) for every type. Replace with a profile measured by `neosim calibrate` on real GPUs."

// zeusV100 are the Zeus NSDI'23 V100 (250 W) medians over 6 DNN workloads
// and all batch sizes (SOURCES.md §4 [C]): cap → throughput, energy per
// unit of work, both relative to the uncapped GPU.
var zeusV100 = []econ.CapPoint{
	{CapPct: 100, ThroughputRel: 1, EnergyRel: 1},
	{CapPct: 70, ThroughputRel: 0.94, EnergyRel: 0.85},
	{CapPct: 60, ThroughputRel: 0.90, EnergyRel: 0.81},
	{CapPct: 50, ThroughputRel: 0.85, EnergyRel: 0.80},
}

const capsNote = "caps: Zeus V100 medians; the A40 (300 W) medians fall faster: 67% → 0.96 throughput / 0.87 energy, 50% → 0.75 / 0.95, 33% → 0.35 / 1.39"

// builtinModels holds, per catalog type, the published idle range (watts,
// nil: none published) and a note with the rest of §4 about that type.
var builtinModels = map[string]struct {
	idle []float64
	note string
}{
	"A100-80GB": {[]float64{54, 65}, "idle: A100-SXM4-80GB nvidia-smi dumps [V]. AcmeTrace Seren/Kalos DCGM power, TDP 400 W [C]: " +
		"p10 63/63, p25 66/66, p50 97/102, p75 291/372, p90 395/404, p99 439/442 W (a bimodal fleet: about a third idle near 60–70 W, busy GPUs near TDP)"},
	"H100-SXM": {[]float64{67, 71}, "idle: H100 SXM nvidia-smi dumps, P0, 0% util, no context (n=5) [V]; with a context or memory allocated at 0% util 122–145 W [V]. " +
		"A 600 W cap (86%) slows transformer pre-training 10–15% (FP8 15–20%) per a vendor blog [U], more than the Zeus curve"},
	"H200":  {[]float64{73, 76}, "idle: nvidia-smi dumps [V]. LLM decode draws 137–300 W of 700 W, so power caps do not bind there (Ma et al., arXiv 2605.11999) [V]"},
	"B200":  {[]float64{136, 144}, "idle: nvidia-smi dumps, 8 GPUs of one node plus one other [V]"},
	"GB200": {nil, "no published power readings: idle taken as the B200's [U], TDP 1,200 W per GPU [U] (SOURCES.md §2, conflicting)"},
}

// Builtin returns the built-in profile: one model per catalog type, from
// SOURCES.md §4, with "measured": false. Its power curves are exactly the
// catalog's (econ.CatalogPowerProfile), so a scenario that references it
// costs power as one that references none.
func Builtin() *Profile {
	p := &Profile{
		Schema:   econ.CalibrationSchema,
		Measured: false,
		Source:   builtinSource,
		Note:     builtinNote,
		Date:     BuiltinDate,
	}
	for t, g := range fleet.Catalog {
		m := ModelProfile{PowerProfile: econ.CatalogPowerProfile(t)}
		m.Caps = append([]econ.CapPoint(nil), zeusV100...)
		bm, ok := builtinModels[g.Name]
		if !ok {
			panic(fmt.Sprintf("calibrate: catalog type %s has no built-in profile", g.Name)) // a catalog edit must add one
		}
		m.IdleRangeW = bm.idle
		m.Note = bm.note + "; " + capsNote
		p.Models = append(p.Models, m)
	}
	return p
}
