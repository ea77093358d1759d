package traces_test

import (
	"fmt"

	"neosim/sim"
	"neosim/traces"
)

func ExampleOpen() {
	r, err := traces.Open("testdata/jobs.csv", traces.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	var s sim.JobSpec
	for r.Next(&s) {
		fmt.Printf("%-11s at %-4v %2d GPUs × %4d milli, type %-8q %-8s %-9s for %v\n",
			s.ID, s.Submit, s.GPUs, s.Milli, s.GPUTypes, s.Tenant, s.Segment, s.Work)
	}
	if err := r.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// train-001   at 0s   64 GPUs × 1000 milli, type "H100-SXM" research internal  for 1d
	// train-002   at 30s   8 GPUs × 1000 milli, type ""       research internal  for 2h
	// notebook-17 at 45.5s  1 GPUs ×  250 milli, type ""       acme     on-demand for 30m
	// infer-3     at 1m    2 GPUs × 1000 milli, type "H200"   globex   serving   for 1h
	// spot-9      at 1m   16 GPUs × 1000 milli, type ""       initech  spot      for 1h30m
}

func ExampleReadNodeList() {
	groups, err := traces.ReadNodeList("testdata/nodes.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range groups {
		fmt.Printf("%d×%d %s in %s/%s, %d nodes per rack: %v\n",
			g.Nodes, g.GPUsPerNode, g.Type, g.Region, g.Datacenter, g.NodesPerRack, g.Names)
	}
	// Output:
	// 4×8 H100-SXM in us-east/dc-east, 2 nodes per rack: [h100-a01 h100-a02 h100-a03 h100-a04]
	// 2×4 GB200 in us-east/dc-east, 2 nodes per rack: [gb200-t01 gb200-t02]
	// 1×8 A100-80GB in us-west/dc-west, 0 nodes per rack: [a100-w01]
}
