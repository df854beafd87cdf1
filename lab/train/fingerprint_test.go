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
			if err := f.Set(&c, map[string]string{"act": "relu", "loss": "mse", "init": "normal", "optimizer": "adam", "update": "dom-damped", "noise": "0.3", "features": "x1,x1x2"}[f.Name]); err != nil {
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

// A setting added to the table later (omitempty, like update) leaves the fingerprint of
// every run written before it unchanged at its zero value: the values below are those of the
// code at f62cbcf, before update had a flag (computed there with Preset(name).Fingerprint()).
func TestFingerprintKeptWhenASettingIsAdded(t *testing.T) {
	before := map[string]string{
		"demo":    "70096df5066e5a3122152482132cf9d85b36cdba14fe2b26537b0f1270581a88",
		"mnist":   "97306b7323aaff8f7a461d0cc4166318615c7baf7a72640288df703e484fd466",
		"eos":     "f0ac31a0fea086a5adf96cbec850ee0665525ca129550565bd2e14fe4a49103f",
		"moons":   "598b24d4fa57f6cf9e163911ba8054ae8700ef724362516b904b49f7204b00e7",
		"circles": "da03653c790cdda4c9112d52e69e1d41bffb4ad9ac623b65e5551212cc785af0",
		"xor":     "68fc561c1f2be62faac5513a429f9b882817293926b9be6322d4311efe72b47d",
		"spirals": "bf41c0fe4976e9d4d4336fa72b169c09bec98676412d2ecafa27b2b595df2ae8",
		"teacher": "b0e914bae706e3b99ed8fd4a9923d27aa33d83a0cbce52eee635f86692ddabb4",
		"song":    "8532b01af4d4890ca376853ab36a7c099b8036e00ff61d15e06d0ce0d05f56cc",
	}
	for name, want := range before {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Fingerprint(); got != want {
			t.Errorf("%s: fingerprint %s, was %s: run directories written before would not resume", name, got, want)
		}
	}
}
