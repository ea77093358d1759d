package fleet

import (
	"fmt"
	"sort"
	"strings"
)

// DefaultModels maps GPU model names found in public traces and node lists
// to catalog types. Every one maps to H100-SXM, the catalog's unit of speed
// (Speed 1.0), so that a trace's recorded durations replay unchanged on a
// fleet imported from the same trace: the traces do not say how fast their
// old GPUs were relative to an H100, and a replay must not silently stretch
// them. To model a different mapping (an upgrade to B200, say), override
// entries with a scenario's gpu_models or the adapters' Options.Models.
//
// Models: Philly's 2-GPU P100-12GB and 8-GPU P40-24GB servers
// (../shared/traces/philly-2017/SOURCE.md); openb's G1, G2, G3 (undisclosed),
// T4, P100, V100M16, V100M32 and A10 (alibaba-openb-2023); PAI's T4, P100,
// V100, V100M32 and MISC (alibaba-pai-2020); and other common names.
var DefaultModels = map[string]string{
	"P100": "H100-SXM", "P100-12GB": "H100-SXM", "P40": "H100-SXM", "P40-24GB": "H100-SXM",
	"K80": "H100-SXM", "M60": "H100-SXM", "T4": "H100-SXM", "A10": "H100-SXM", "A10G": "H100-SXM",
	"V100": "H100-SXM", "V100M16": "H100-SXM", "V100M32": "H100-SXM", "V100-16GB": "H100-SXM", "V100-32GB": "H100-SXM",
	"A100-40GB": "H100-SXM", "L4": "H100-SXM", "L40S": "H100-SXM",
	"G1": "H100-SXM", "G2": "H100-SXM", "G3": "H100-SXM", "MISC": "H100-SXM",
}

// ResolveModel finds the catalog type for a model name: a catalog name or
// alias first, then overrides, then DefaultModels (all case-insensitive).
// An unknown model is an error that lists what is known.
func ResolveModel(model string, overrides map[string]string) (TypeID, error) {
	if t, ok := LookupType(model); ok {
		return t, nil
	}
	key := strings.ToUpper(strings.TrimSpace(model))
	for _, m := range []map[string]string{overrides, DefaultModels} {
		for k, v := range m {
			if strings.ToUpper(k) != key {
				continue
			}
			t, ok := LookupType(v)
			if !ok {
				return -1, fmt.Errorf("GPU model %q maps to %q, which is not a catalog type; known: %s", model, v, TypeNames())
			}
			return t, nil
		}
	}
	known := make([]string, 0, len(DefaultModels))
	for k := range DefaultModels {
		known = append(known, k)
	}
	sort.Strings(known)
	return -1, fmt.Errorf("unknown GPU model %q: not a catalog type (%s) nor a known trace model (%s); map it with gpu_models", model, TypeNames(), strings.Join(known, ", "))
}
