package scenario

import (
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// zeroBase is a scenario that sets every numeric field the schema has
// (the examples plus the fields they leave out).
func zeroBase(t *testing.T) []byte {
	b, err := os.ReadFile("../examples/meta-spare.yaml")
	if err != nil {
		t.Fatal(err)
	}
	extra := `
sample_interval: 5m
restart_overhead: 10m
spread_penalty: 0.1
warmup: 1h
workloads:
  - {name: w, rate_per_hour: 3, gpus: "const:1", duration_s: "const:60", priority: 5, checkpoint_s: 600}
cost:
  capex_usd: {H100: 50000}
  life_years_by_type: {B200: 4}
  overhead_fraction: 0.2
  usd_per_kwh: 0.08
  host_power_factor: 1.4
  busy_utilization: 0.8
  serving_utilization: 0.23
  support_usd_per_customer_month: 500
  delay_usd_per_gpu_hour: 2.35
  cost_of_capital: 0.1
  datacenter_usd_per_mw_year: 1650000
  sales_ga_fraction: 0.1
failures: {enabled: true, per_gpu_hour: 0.00002}
external_demand:
  segments:
    - {segment: on-demand, rate_per_hour: 10, max_jobs: 100, customers: 20, zipf_s: 1.1, priority: 200, checkpoint_s: 60, notice_s: 30, list_usd_per_hour: 3.99}
    - {segment: reserved, rate_per_hour: 0.01}
    - {segment: serving, tokens_per_s: 1000, replica_gpus: 8, replica_tokens_per_s: 100, target_utilization: 0.7, interval_s: 300, min_hold_s: 300, max_hold_s: 3600, min_replicas: 2, price_per_mtok_usd: 0.17}
`
	// The extra keys replace the example's (a YAML mapping keeps the last).
	var base, add map[string]any
	if err := yaml.Unmarshal(b, &base); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(extra), &add); err != nil {
		t.Fatal(err)
	}
	for k, v := range add {
		if m, ok := v.(map[string]any); ok && k == "cost" {
			for kk, vv := range base[k].(map[string]any) {
				if _, set := m[kk]; !set {
					m[kk] = vv
				}
			}
		}
		base[k] = v
	}
	out, err := yaml.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestZeroIsAValue sets each numeric field of a full scenario to 0, one at
// a time, and checks that the scenario either keeps the 0 (the resolved
// field reads 0) or is rejected with an error naming the field. It logs the
// fields whose 0 a default used to replace (now rejected).
func TestZeroIsAValue(t *testing.T) {
	src := zeroBase(t)
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("base", src); err != nil {
		t.Fatalf("the base scenario: %v", err)
	}
	var leaves [][]string
	numericScalars(&doc, nil, &leaves, func(string) bool { return true })
	if len(leaves) < 40 {
		t.Fatalf("only %d numeric fields: the base scenario does not cover the schema", len(leaves))
	}
	var rejected, wasWrong, kept []string
	for _, p := range leaves {
		name := strings.Join(p, ".")
		var d yaml.Node
		_ = yaml.Unmarshal(src, &d)
		setScalar(&d, p, "0")
		b, _ := yaml.Marshal(&d)
		s, err := Parse("zero", b)
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			if !strings.Contains(err.Error(), p[len(p)-1]) {
				t.Errorf("%s: 0 rejected, but the error does not name the field: %v", name, err)
			}
			if strings.Contains(err.Error(), "would mean the default") {
				wasWrong = append(wasWrong, name)
			} else {
				rejected = append(rejected, name)
			}
			continue
		}
		v := reflect.ValueOf(s).Elem()
		ok := true
		for _, k := range p {
			if v, ok = step(v, k); !ok {
				break
			}
		}
		if !ok {
			continue // under a map of free-form values or a per-type map: checked by its owner
		}
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if !v.IsZero() {
			t.Errorf("%s: set to 0, resolved to %v", name, v.Interface())
		}
		kept = append(kept, name)
	}
	sort.Strings(rejected)
	t.Logf("%d numeric fields: 0 kept for %d: %s", len(leaves), len(kept), strings.Join(kept, ", "))
	t.Logf("0 rejected by Validate, naming the field, for %d: %s", len(rejected), strings.Join(rejected, ", "))
	t.Logf("0 silently became the default before, now rejected naming the field, for %d: %s", len(wasWrong), strings.Join(wasWrong, ", "))
}

func setScalar(n *yaml.Node, path []string, v string) {
	if n.Kind == yaml.DocumentNode {
		setScalar(n.Content[0], path, v)
		return
	}
	if len(path) == 0 {
		n.Value, n.Tag, n.Style = v, "!!int", 0
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == path[0] {
				setScalar(n.Content[i+1], path[1:], v)
			}
		}
	case yaml.SequenceNode:
		i, _ := strconv.Atoi(path[0])
		setScalar(n.Content[i], path[1:], v)
	}
}
