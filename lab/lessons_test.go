package lab

import (
	"context"
	"testing"

	"sharpflat/lab/lesson"
)

// Every built-in lesson, played headless with its fixed seed exactly as the lab plays it,
// makes its captions' claims true: each claim is checked where its step ends (the numbers in
// the captions are these runs' measurements).
//
// The six lessons take over a minute on two cores (over ten minutes under the race detector),
// so they are a long check: .ci/run plays them in a step of their own, without the race
// detector; their mechanics are raced in play_test.go.
func TestBuiltinLessonsClaimsHold(t *testing.T) {
	longCheck(t)
	if raceEnabled {
		t.Skip("numerics only: .ci/run plays the lessons without the race detector")
	}
	for _, l := range lesson.Builtin() {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			e := lessonEngine(t, l, Options{LessonAuto: true})
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			rs := e.LessonResults()
			if len(rs) != len(l.Steps) {
				t.Fatalf("%d step results for %d steps", len(rs), len(l.Steps))
			}
			for _, r := range rs {
				if r.GaveUp {
					t.Errorf("step %d (%s): its condition never held (%d steps)", r.Index+1, r.Title, r.Trained)
				}
				for _, c := range r.Claims {
					t.Logf("step %d (%s), %d steps: %s — %v (%s)", r.Index+1, r.Title, r.Trained, c.Text, c.Verdict, c.Value)
					if c.Verdict != lesson.Holds {
						t.Errorf("step %d (%s): claim %q %v: %s", r.Index+1, r.Title, c.Text, c.Verdict, c.Value)
					}
				}
			}
		})
	}
}
