package traces

import (
	"bytes"
	"strings"
	"testing"

	"neosim/sim/fleet"
)

func TestReadNodeListBuildsFleet(t *testing.T) {
	groups, err := ReadNodeList("testdata/nodes.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 {
		t.Fatalf("%d groups; want 3", len(groups))
	}
	f, err := fleet.New(groups)
	if err != nil {
		t.Fatal(err)
	}
	if f.Nodes() != 7 || f.GPUs() != 4*8+2*4+8 {
		t.Errorf("fleet has %d nodes, %d GPUs; want 7, 48", f.Nodes(), f.GPUs())
	}
	if f.Racks() != 2+1+1 {
		t.Errorf("fleet has %d racks; want 4 (two H100 racks of 2, one GB200, one A100)", f.Racks())
	}
	names := map[string]bool{}
	for n := range fleet.NodeID(f.Nodes()) {
		names[f.NodeName(n)] = true
	}
	for _, want := range []string{"h100-a01", "gb200-t02", "a100-w01"} {
		if !names[want] {
			t.Errorf("fleet lost node name %q (has %v)", want, names)
		}
	}
}

func TestReadNodeListGrouping(t *testing.T) {
	path := writeFile(t, "nodes.csv", "GPU_Type,node,gpus,serial\n"+
		"H100,n1,8,x\nH100,n2,8,x\nH100,n3,4,x\nH100,n4,8,x\nB200,n5,8,x\n")
	var warn bytes.Buffer
	groups, err := ReadNodeListWith(path, Options{Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		got = append(got, strings.Join(g.Names, "+")+"/"+g.Type)
	}
	want := "n1+n2/H100-SXM n3/H100-SXM n4/H100-SXM n5/B200"
	if strings.Join(got, " ") != want {
		t.Errorf("groups %v; want %s", got, want)
	}
	if strings.Count(warn.String(), "\n") != 1 || !strings.Contains(warn.String(), `"serial"`) {
		t.Errorf("warnings %q; want one naming serial", warn.String())
	}
}

func TestReadNodeListRacks(t *testing.T) {
	tests := []struct {
		racks string // one rack value per node, all in one group
		want  int    // NodesPerRack; 0 = left to fleet.New's default
	}{
		{"a a b b c", 2},
		{"a a a", 3},
		{"a b c", 1},
		{"a a b c c", 0}, // unequal runs
		{"a a b b b", 0}, // last run longer
		{"a  a", 0},      // a node without a rack
	}
	for _, tt := range tests {
		var b strings.Builder
		b.WriteString("node,gpus,gpu_type,rack\n")
		for i, r := range strings.Split(tt.racks, " ") {
			b.WriteString("n" + string(rune('a'+i)) + ",8,H100," + r + "\n")
		}
		groups, err := ReadNodeList(writeFile(t, "nodes.csv", b.String()))
		if err != nil {
			t.Fatal(err)
		}
		if groups[0].NodesPerRack != tt.want {
			t.Errorf("racks %q: NodesPerRack %d; want %d", tt.racks, groups[0].NodesPerRack, tt.want)
		}
	}
}

func TestReadNodeListErrors(t *testing.T) {
	const h = "node,gpus,gpu_type\n"
	tests := []struct {
		name  string
		csv   string
		line  int64
		field string
		msg   string
	}{
		{"duplicate name", h + "a,8,H100\nb,8,H100\na,8,H100\n", 4, "node", `duplicate node "a" (first on line 2)`},
		{"bad type", h + "a,8,H100\nb,8,TPUv5\n", 3, "gpu_type", `unknown GPU type "TPUv5"; known: A100-80GB`},
		{"empty type", h + "a,8,\n", 2, "gpu_type", "is empty"},
		{"gpus text", h + "a,eight,H100\n", 2, "gpus", `"eight" is not a whole number`},
		{"gpus zero", h + "a,0,H100\n", 2, "gpus", "0 is outside 1..64"},
		{"gpus too many", h + "a,65,H100\n", 2, "gpus", "65 is outside 1..64"},
		{"empty name", h + " ,8,H100\n", 2, "node", "is empty"},
		{"missing column", "node,gpus\na,8\n", 0, "gpu_type", `missing required column "gpu_type" (header has: node, gpus)`},
		{"field count", h + "a,8,H100\nb,8\n", 3, "", "has 2 fields; the header has 3"},
		{"no rows", h, 0, "", "no nodes"},
		{"empty file", "", 0, "", "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "nodes.csv", tt.csv)
			_, err := ReadNodeList(path)
			if err == nil {
				t.Fatal("succeeded; want an error")
			}
			e := asError(t, err)
			if e.File != path || e.Line != tt.line || e.Field != tt.field {
				t.Errorf("error %v: line %d field %q; want line %d field %q", err, e.Line, e.Field, tt.line, tt.field)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}
