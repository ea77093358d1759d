package fleet

import (
	"fmt"
	"sort"
	"strings"
)

// GPUType describes one GPU model. Numbers carry their sources; the tags
// follow ../shared/calibration/SOURCES.md: [V] verbatim from a source, [D]
// derived, [U] unverified (an engineering assumption to replace when a
// measurement or better source exists).
type GPUType struct {
	Name     string  // canonical name, e.g. "H100-SXM"
	MemoryGB float64 // HBM per GPU
	TDPW     float64 // board power limit, watts
	IdleW    float64 // power at idle with no context, watts
	// Speed is training throughput relative to an H100-SXM: a job whose trace
	// says it ran d seconds on an H100 runs d/Speed seconds on this type.
	Speed float64
	// ListUSDPerHour is the default on-demand list price per GPU-hour.
	ListUSDPerHour float64
	// CapexUSD is the all-in capital cost per GPU (GPU, server share, fabric).
	CapexUSD float64
}

// Catalog is the built-in GPU catalog, in the order placements try types.
//
// Sources (../shared/calibration/SOURCES.md):
//   - TDP: §2 "TDP: H100 SXM / H200 / B200" 700/700/1,000 W [V]; A100-SXM4 400 W
//     (§4 AcmeTrace row, "TDP 400 W") [V]; GB200 1,200 W per GPU [U] (§2, conflicting).
//   - Idle power: §4 public nvidia-smi dumps: A100 54–65 W, H100 67–71 W, H200
//     73–76 W, B200 136–144 W [V] (midpoints used); GB200 taken as B200 [U].
//   - List price: the median of the neocloud on-demand quotes in §1b (2026)
//     [D]: H100 3.99 (CoreWeave 6.155, Lambda 3.99, Nebius 3.85, Together
//     3.99, Crusoe 3.90); H200 5.25 (CoreWeave 6.305, Nebius 4.50, Together
//     5.99, Crusoe 4.29: midpoint of the middle two); B200 7.15 (CoreWeave
//     8.60, Lambda 6.99, Nebius 7.15); A100 80GB 2.70 (CoreWeave 2.70,
//     Lambda 2.79, Crusoe 2.30); GB200 8.73 = CoreWeave's 10.50 × the B200
//     median / CoreWeave's B200 (7.15 / 8.60), its only quote [D]
//     (docs/pricing.md).
//   - Capex: §2 H100 all-in 47k–52k (50k) [V]; H200 and B200 add the GPU price
//     difference of the aiinframap estimates (+5k, +10k) to 50k [D]; GB200
//     70k per GPU (≈5M per NVL72 rack) [U]; A100 25k [U].
//   - Speed vs H100: A100 0.5, H200 1.2, B200 2.2, GB200 2.5 [U]: engineering
//     assumptions for BF16 LLM training, to be replaced by calibration.
//   - Memory: NVIDIA datasheets (A100 80 GB, H100 SXM 80 GB, H200 141 GB,
//     B200 180 GB as in DGX B200, GB200 186 GB) [U].
var Catalog = []GPUType{
	{Name: "A100-80GB", MemoryGB: 80, TDPW: 400, IdleW: 60, Speed: 0.5, ListUSDPerHour: 2.70, CapexUSD: 25_000},
	{Name: "H100-SXM", MemoryGB: 80, TDPW: 700, IdleW: 69, Speed: 1.0, ListUSDPerHour: 3.99, CapexUSD: 50_000},
	{Name: "H200", MemoryGB: 141, TDPW: 700, IdleW: 75, Speed: 1.2, ListUSDPerHour: 5.25, CapexUSD: 55_000},
	{Name: "B200", MemoryGB: 180, TDPW: 1000, IdleW: 140, Speed: 2.2, ListUSDPerHour: 7.15, CapexUSD: 60_000},
	{Name: "GB200", MemoryGB: 186, TDPW: 1200, IdleW: 140, Speed: 2.5, ListUSDPerHour: 8.73, CapexUSD: 70_000},
}

// aliases maps accepted spellings (upper-cased) to catalog names.
var aliases = map[string]string{
	"A100": "A100-80GB", "A100-80G": "A100-80GB", "A100-SXM4-80GB": "A100-80GB",
	"H100": "H100-SXM", "H100-80GB": "H100-SXM", "H100SXM": "H100-SXM",
	"H200-SXM": "H200", "B200-SXM": "B200", "GB200-NVL72": "GB200",
}

// LookupType finds a catalog entry by name or alias, case-insensitively.
func LookupType(name string) (TypeID, bool) {
	u := strings.ToUpper(strings.TrimSpace(name))
	if a, ok := aliases[u]; ok {
		u = a
	}
	for i, t := range Catalog {
		if strings.ToUpper(t.Name) == u {
			return TypeID(i), true
		}
	}
	return -1, false
}

// TypeNames lists the catalog names and aliases for error messages.
func TypeNames() string {
	var names []string
	for _, t := range Catalog {
		names = append(names, t.Name)
	}
	var al []string
	for a := range aliases {
		al = append(al, a)
	}
	sort.Strings(al)
	return fmt.Sprintf("%s (aliases: %s)", strings.Join(names, ", "), strings.Join(al, ", "))
}

// TypeSet is a set of catalog types: bit t stands for Catalog[t]. The empty
// set means any type. A job's GPU-type constraint is a TypeSet, so a trace
// can allow several models ("V100M16|V100M32").
type TypeSet uint16

// Only returns the set holding catalog type t alone.
func Only(t TypeID) TypeSet { return 1 << t }

// Has reports whether the set allows type t (the empty set allows all).
func (s TypeSet) Has(t TypeID) bool { return s == 0 || s&(1<<t) != 0 }

// ParseTypeSet reads GPU type names separated by '|' ("H100|B200"); "" and
// "any" mean any type.
func ParseTypeSet(names string) (TypeSet, error) {
	names = strings.TrimSpace(names)
	if names == "" || strings.EqualFold(names, "any") {
		return 0, nil
	}
	var s TypeSet
	for _, n := range strings.Split(names, "|") {
		t, ok := LookupType(n)
		if !ok {
			return 0, fmt.Errorf("unknown GPU type %q; known: %s", strings.TrimSpace(n), TypeNames())
		}
		s |= Only(t)
	}
	return s, nil
}

// String returns the set's type names joined by '|', or "" for any type.
func (s TypeSet) String() string {
	if s == 0 {
		return ""
	}
	var names []string
	for t := range Catalog {
		if s&Only(TypeID(t)) != 0 {
			names = append(names, Catalog[t].Name)
		}
	}
	return strings.Join(names, "|")
}
