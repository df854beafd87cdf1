package lesson

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"sharpflat/internal/safetext"
	"sharpflat/lab/train"
)

// Parse never panics; what it accepts is a valid lesson, and what it refuses it refuses with
// an *Error that points into the file.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		full,
		fullHeaders,
		head,
		head + "until.steps = 1\nexpect = [{metric = \"loss\", above = 0.5, below = 1, throughout = true}]",
		head + "until = { metric = \"sharpness/edge\", above = 0.95, max_steps = 10, auto = true }",
		head + "do = { lr = 1e-3, momentum = 0.5, batch = 0x10, k = 0o7, refresh = 0b1 }",
		"step = [ { caption = \"a\", do.alpha = 1 } ]\ntitle = 't'\npreset = 'demo'",
		"title = \"x\" = 1",
		"[step.do]\n[[step]]",
		"[[step]]\n[[step.expect]]\n[step.expect.x]",
		"a.b.c = 1\n[a]\n[a.b.d]",
		"seed = 99999999999999999999",
		"\uFEFFtitle = \"\"\"\r\nλ\r\n\"\"\"",
		raceLesson,
		head + "do.race = [\"dom\", \"sgd:lr*2\", \"bulk:k=3:m=0.5\"]\nuntil.steps = 2\nexpect = [{metric = \"loss@dom\", below = \"loss@sgd:lr*2\"}]",
		head + "do.race = [\"dom\", \"alpha=0\"]",
		head + "do.race = []\nuntil = { metric = \"loss@bulk\", below = 1 }",
		head + "do.race = [\"w=1/2\", \"dom-damped\"]\n[[step]]\ncaption = \"d\"\ndo.lr = 1",
		head + "do = { hidden = [8, 0x10], act = \"relu\", loss = \"ce\", data = \"spirals\", n = 600, test_frac = 0.25, weight_decay = 1e-3 }",
		head + "do = { hidden = [], noise = 0.3, features = [\"x1\", \"x1x2\"], data = \"moons\" }\n[[step]]\ncaption = \"d\"\ndo.noise = \"default\"",
		head + "do.race = [\"dom\", \"bulk\"]\n[[step]]\ncaption = \"d\"\ndo = { hidden = [4], lr = 0.1 }",
		head + "show = \"neurons\"\ndo.data = \"mnist\"\n[[step]]\ncaption = \"d\"\nshow = \"picture\"\ndo.noise = 0.1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("f.toml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want an *Error", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			if e.File != "f.toml" || e.Line < 1 || e.Line > lines || e.Col < 1 || e.Msg == "" {
				t.Fatalf("error %q (%+v) does not point into the file (%d lines)", err, *e, lines)
			}
			return
		}
		if l == nil {
			t.Fatal("no lesson and no error")
		}
		if err := valid(l); err != nil {
			t.Fatalf("accepted an invalid lesson: %v\n%s", err, dump(l))
		}
	})
}

// setupOK: every setting is a setup key, given once, whose value the setting's flag takes and
// Validate accepts.
func setupOK(ss []Setting) bool {
	var seen []string
	for _, s := range ss {
		if !slices.Contains(SetupKeys(), s.Key) || slices.Contains(seen, s.Key) || safetext.Executable(s.Value) {
			return false
		}
		seen = append(seen, s.Key)
		c, _ := train.Preset("moons")
		if s.Apply(&c) != nil || c.Validate() != nil {
			return false
		}
		if s.Key == "data" && !slices.Contains(lessonData, s.Value) {
			return false
		}
	}
	return true
}

// valid checks what Parse promises of a lesson it returns.
func valid(l *Lesson) error {
	presets := train.Presets()
	text := func(s string, required bool) bool {
		return (!required || s != "") && s == strings.TrimSpace(s) && !strings.ContainsAny(s, "\r\n") && !safetext.Executable(s)
	}
	switch {
	case l.Name != "f":
		return fmt.Errorf("name %q", l.Name)
	case !text(l.Title, true), !text(l.Summary, false):
		return fmt.Errorf("title %q, summary %q", l.Title, l.Summary)
	case !slices.Contains(presets, l.Preset):
		return fmt.Errorf("preset %q", l.Preset)
	case l.Seed > math.MaxInt64:
		return fmt.Errorf("seed %d", l.Seed)
	case len(l.Steps) < 1 || len(l.Steps) > maxSteps:
		return fmt.Errorf("%d steps", len(l.Steps))
	}
	in := func(p *float64, lo, hi float64) bool { return p == nil || (*p >= lo && *p <= hi) }
	pos := func(p *float64) bool { return p == nil || (*p > 0 && !math.IsInf(*p, 0)) }
	fin := func(p *float64) bool { return p == nil || (!math.IsNaN(*p) && !math.IsInf(*p, 0)) }
	atLeast := func(p *int, lo, hi int) bool { return p == nil || (*p >= lo && *p <= hi) }
	var race []string // in force
	for i, s := range l.Steps {
		a, u := s.Do, s.Until
		settings := a.Rollback || a.Alpha != nil || a.WDom != nil || a.WBulk != nil || a.LR != nil || a.Momentum != nil ||
			a.Batch != nil || a.K != nil || a.Refresh != nil || a.Recompute || a.Checkpoint
		fresh := a.Preset != "" || a.Seed != nil || a.Reset || len(a.Setup) > 0
		racing := race != nil && !fresh && a.Race == nil // a race runs on through the step
		if fresh {
			race = nil
		}
		if a.Race != nil {
			race = nil
			if len(a.Race) > 0 {
				race = a.Race
			}
		}
		// metricOK: a metric, or one of an arm of the race in force, the arm in its canonical form.
		metricOK := func(ref string) bool {
			name, arm := SplitArm(ref)
			if arm == "" {
				return IsMetric(name)
			}
			c, err := CanonicalArm(arm)
			return IsMetric(name) && name != "chi_random" && err == nil && c == arm && slices.Contains(race, arm)
		}
		var problems []string
		check := func(ok bool, what string) {
			if !ok {
				problems = append(problems, what)
			}
		}
		check(!racing || !settings, "settings during a race")
		check(len(a.Race) != 1 && len(a.Race) <= MaxArms, "do.race size")
		for j, arm := range a.Race {
			c, err := CanonicalArm(arm)
			check(err == nil && c == arm && !slices.Contains(a.Race[:j], arm), "do.race arm")
		}
		check(s.Show == "" || slices.Contains(Views, s.Show), "show")
		check(setupOK(a.Setup), "do setup")
		check(s.Line >= 1, "line")
		check(text(s.Title, false), "title")
		check(s.Caption != "" && s.Caption == strings.TrimSpace(s.Caption) && !safetext.Executable(s.Caption), "caption")
		check(a.Preset == "" || slices.Contains(presets, a.Preset), "do.preset")
		check(a.Seed == nil || (*a.Seed >= 1 && *a.Seed <= math.MaxInt64), "do.seed")
		check(in(a.Alpha, 0, 1) && in(a.WDom, 0, 10) && in(a.WBulk, 0, 10), "do.alpha/w_dom/w_bulk")
		check(a.Alpha == nil || (a.WDom == nil && a.WBulk == nil), "alpha with w_dom/w_bulk")
		check(pos(a.LR), "do.lr")
		check(a.Momentum == nil || (*a.Momentum >= 0 && *a.Momentum < 1), "do.momentum")
		check(atLeast(a.Batch, 0, math.MaxInt) && atLeast(a.K, 1, 1000) && atLeast(a.Refresh, 0, math.MaxInt), "do.batch/k/refresh")
		check(u.Steps >= 0 && u.MaxSteps >= 0 && u.Steps <= MaxTrainSteps && u.MaxSteps <= MaxTrainSteps, "until.steps/max_steps")
		check(u.Steps == 0 || u.Metric == "", "until.steps with metric")
		check(u.Metric == "" || (metricOK(u.Metric) && (u.Above == nil) != (u.Below == nil)), "until.metric")
		check(u.Metric != "" || (u.Above == nil && u.Below == nil && u.MaxSteps == 0), "until without metric")
		check(fin(u.Above) && fin(u.Below), "until.above/below")
		check(!u.Auto || u.Trains(), "until.auto")
		check(len(s.Expect) == 0 || (u.Trains() && !a.Pause), "claims on a step that does not train")
		for _, x := range s.Expect {
			check(x.Line >= s.Line, "expect line")
			check(metricOK(x.Metric), "expect.metric")
			compare := x.AboveMetric != "" || x.BelowMetric != ""
			check(x.AboveMetric == "" || metricOK(x.AboveMetric), "expect.above metric")
			check(x.BelowMetric == "" || metricOK(x.BelowMetric), "expect.below metric")
			check(!compare || (x.Above == nil && x.Below == nil && (x.AboveMetric == "") != (x.BelowMetric == "") &&
				x.AboveMetric+x.BelowMetric != x.Metric && !x.Throughout), "expect comparison")
			check(fin(x.Above) && fin(x.Below) && pos(x.FallsBy) && pos(x.RisesBy) && pos(x.Within), "expect values")
			bounds := x.Above != nil || x.Below != nil || compare
			kinds := 0
			for _, set := range []bool{bounds, x.FallsBy != nil, x.RisesBy != nil, x.Within != nil} {
				if set {
					kinds++
				}
			}
			check(kinds == 1, "expect relations")
			check(x.Above == nil || x.Below == nil || *x.Above < *x.Below, "expect above < below")
			check(!x.Throughout || (bounds && !compare), "expect.throughout")
			_ = Describe(x) // must not panic
		}
		if len(problems) > 0 {
			return fmt.Errorf("step %d: %s", i+1, strings.Join(problems, ", "))
		}
	}
	return nil
}
