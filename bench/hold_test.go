package bench

import (
	"fmt"
	"testing"
)

// The hold model is in hold.go.

var pendingSizes = []int{1_000, 100_000, 1_000_000}

// BenchmarkHold is neosim's engine queue: a monotone radix heap of value
// events with (time, kind, sequence) order.
func BenchmarkHold(b *testing.B) {
	inc := HoldIncrements()
	for _, n := range pendingSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			h := NewHold(n, inc)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.Step()
			}
		})
	}
}

// BenchmarkHoldBaseline is the same hold model written as typical Go:
// container/heap over pointer events with closures.
func BenchmarkHoldBaseline(b *testing.B) {
	inc := HoldIncrements()
	for _, n := range pendingSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			h := NewHoldBaseline(n, inc)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.Step()
			}
		})
	}
}
