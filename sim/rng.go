package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Stream returns a random stream for (seed, component, entity). Every random
// draw in neosim comes from such a stream, so that a job's attributes depend
// only on the seed and on which source made it, never on the policy under
// test: two policies compared with one seed see the same jobs (common random
// numbers).
//
// The stream is PCG (math/rand/v2) seeded with the run seed and a 64-bit
// FNV-1a hash of component and entity, so streams of different components
// are independent in practice.
func Stream(seed uint64, component string, entity uint64) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(component))
	var b [8]byte
	for i := range b {
		b[i] = byte(entity >> (8 * i))
	}
	h.Write(b[:])
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
