package experiment

import (
	"testing"

	"sharpflat/lab/train"
)

// Each setting assigns the one field of train.Config it names, and only that one: the name is
// what lets the user's flag of that name win, so a wrong name would let the experiment's value
// override the user's.
func TestSettingAssignsTheFieldItNames(t *testing.T) {
	base, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	// Values unlike the demo preset's, so that the assignment shows.
	for _, s := range []Setting{RefreshEvery(7), EnergyEvery(3), EvalEvery(9), HutchSamples(5), HessianSet(77), Examples(123), Hidden(3, 4), K(2),
		BatchSharpnessEvery(4), BatchSharpnessBatches(6)} {
		if _, ok := train.FieldByName(s.Field); !ok {
			t.Errorf("setting %q names no field of train.Config", s.Field)
			continue
		}
		c := base
		c.Hidden = append([]int(nil), base.Hidden...)
		s.Apply(&c)
		for _, f := range train.Fields() {
			changed := f.Get(&base) != f.Get(&c)
			if changed != (f.Name == s.Field) {
				t.Errorf("setting %q: field %s changed %v (%s → %s)", s.Field, f.Name, changed, f.Get(&base), f.Get(&c))
			}
		}
	}
}

// The fast variant's settings replace the full one's of the same field (curvature: T = 10,
// quick T = 5), the others add to them; every experiment's settings make a valid config.
func TestExperimentSettings(t *testing.T) {
	if n := len(Curvature.Settings(true)); n != 7 { // refresh, energy-every, hutch-samples, eval-every, then n, hidden, k (refresh and hutch-samples replaced)
		t.Errorf("curvature's quick settings: %d, want 7", n)
	}
	c, err := Curvature.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	if c.RefreshEvery != 5 || c.HutchSamples != 4 || c.EnergyEvery != 1 || c.N != 240 || c.K != 3 {
		t.Errorf("curvature quick: T %d, hutch %d, energy-every %d, n %d, k %d; want 5, 4, 1, 240, 3", c.RefreshEvery, c.HutchSamples, c.EnergyEvery, c.N, c.K)
	}
	if c, _ := Curvature.BaseConfig(false); c.RefreshEvery != 10 || c.HutchSamples != 32 {
		t.Errorf("curvature: T %d, hutch %d; want 10, 32", c.RefreshEvery, c.HutchSamples)
	}
	for _, x := range All {
		for _, quick := range []bool{false, true} {
			if _, err := x.BaseConfig(quick); err != nil {
				t.Errorf("%s (quick %v): %v", x.Name, quick, err)
			}
		}
	}
	// Given fields keep their value.
	c, _ = train.Preset("demo")
	c.EvalEvery = 3
	Switch.ApplySettings(&c, true, func(f string) bool { return f == "eval-every" })
	if c.EvalEvery != 3 || c.K != 3 {
		t.Errorf("switch over a given eval-every 3: eval-every %d, k %d; want 3, 3", c.EvalEvery, c.K)
	}
}
