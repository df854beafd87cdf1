package train

import (
	"encoding/json"
	"slices"
	"testing"
)

// The fingerprint survives config.json (written with json.MarshalIndent, read back with
// ParseConfig), ignores the preset's name, and changes with every setting; ConfigDiff names
// exactly the setting changed.
func TestFingerprint(t *testing.T) {
	for _, name := range Presets() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.MarshalIndent(c, "", "  ")
		back, err := ParseConfig(raw)
		if err != nil {
			t.Fatal(err)
		}
		if back.Fingerprint() != c.Fingerprint() || len(ConfigDiff(&c, &back)) != 0 {
			t.Errorf("%s: the fingerprint changes through config.json", name)
		}
		renamed := c
		renamed.Preset = "another"
		if renamed.Fingerprint() != c.Fingerprint() {
			t.Errorf("%s: the preset's name changes the fingerprint", name)
		}
	}
	base, _ := Preset("demo")
	seen := map[string]string{base.Fingerprint(): "demo"}
	for _, f := range Fields() {
		c := base
		c.Hidden = slices.Clone(base.Hidden)
		switch p := f.Ptr(&c).(type) {
		case *int:
			*p++
		case *uint64:
			*p++
		case *float64:
			*p = *p*1.0000000000000002 + 1e-300 // the next float up, or so
		case *string:
			*p += "x"
		case *[]int:
			*p = append(*p, 1)
		default:
			if err := f.Set(&c, map[string]string{"act": "relu", "loss": "mse", "init": "normal", "optimizer": "adam"}[f.Name]); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
		fp := c.Fingerprint()
		if other, dup := seen[fp]; dup {
			t.Errorf("changing %s gives the fingerprint of %s", f.Name, other)
		}
		seen[fp] = f.Name
		if d := ConfigDiff(&base, &c); len(d) != 1 || d[0].Name != f.Name {
			t.Errorf("changing %s: ConfigDiff names %v", f.Name, d)
		}
	}
}
