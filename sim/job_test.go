package sim

import (
	"testing"
	"unsafe"
)

// TestJobLayout keeps Job's layout (see its doc): six whole cache lines, a
// run's start and end fields in the first three, the fields the scheduling
// pass and a run read of JobSpec in the line after them, and what a walk
// over the running jobs reads in the third and fourth. A field
// added or moved carelessly makes every job's start and end read a line
// more.
func TestJobLayout(t *testing.T) {
	const line = 64
	var j Job
	if got := unsafe.Sizeof(j); got != 6*line {
		t.Errorf("Job is %d bytes, want %d (six cache lines): take the padding out or put it back", got, 6*line)
	}
	engine := map[string]uintptr{
		"State": unsafe.Offsetof(j.State), "gen": unsafe.Offsetof(j.gen), "restarts": unsafe.Offsetof(j.restarts),
		"Runs": unsafe.Offsetof(j.Runs), "Start": unsafe.Offsetof(j.Start), "end": unsafe.Offsetof(j.end),
		"speed": unsafe.Offsetof(j.speed), "rate": unsafe.Offsetof(j.rate), "Remaining": unsafe.Offsetof(j.Remaining),
		"RunTime": unsafe.Offsetof(j.RunTime), "overhead": unsafe.Offsetof(j.overhead), "noticeAt": unsafe.Offsetof(j.noticeAt),
		"Shares": unsafe.Offsetof(j.Shares), "billed": unsafe.Offsetof(j.billed), "LostTime": unsafe.Offsetof(j.LostTime),
		"RunTimeBeforeWindow": unsafe.Offsetof(j.RunTimeBeforeWindow), "RunPriceMicroUSD": unsafe.Offsetof(j.RunPriceMicroUSD),
		"PriceMicroUSD": unsafe.Offsetof(j.PriceMicroUSD), "Type": unsafe.Offsetof(j.Type), "FirstStart": unsafe.Offsetof(j.FirstStart),
		"End": unsafe.Offsetof(j.End), "Reason": unsafe.Offsetof(j.Reason), "live": unsafe.Offsetof(j.live),
	}
	for name, off := range engine {
		if off >= 3*line {
			t.Errorf("Job.%s at byte %d: past the first three lines", name, off)
		}
	}
	walk := map[string]uintptr{
		"State": unsafe.Offsetof(j.State), "end": unsafe.Offsetof(j.end), "noticeAt": unsafe.Offsetof(j.noticeAt),
		"Type": unsafe.Offsetof(j.Type), "Shares": unsafe.Offsetof(j.Shares),
	}
	for name, off := range walk {
		if off/line != 2 {
			t.Errorf("Job.%s at byte %d: a walk over the running jobs reads it, with JobSpec's first line, from the third", name, off)
		}
	}
	spec := unsafe.Offsetof(j.JobSpec)
	if spec != 3*line {
		t.Errorf("Job.JobSpec at byte %d, want %d", spec, 3*line)
	}
	var s JobSpec
	hot := map[string]uintptr{
		"Submit": unsafe.Offsetof(s.Submit), "Work": unsafe.Offsetof(s.Work), "GPUs": unsafe.Offsetof(s.GPUs),
		"Priority": unsafe.Offsetof(s.Priority), "Milli": unsafe.Offsetof(s.Milli), "GPUTypes": unsafe.Offsetof(s.GPUTypes),
		"Segment": unsafe.Offsetof(s.Segment), "Hold": unsafe.Offsetof(s.Hold), "Patience": unsafe.Offsetof(s.Patience),
		"Checkpoint": unsafe.Offsetof(s.Checkpoint), "Notice": unsafe.Offsetof(s.Notice),
		"TokenPriceMicroUSD": unsafe.Offsetof(s.TokenPriceMicroUSD),
	}
	for name, off := range hot {
		if off >= line {
			t.Errorf("JobSpec.%s at byte %d: past its first line", name, off)
		}
	}
}
