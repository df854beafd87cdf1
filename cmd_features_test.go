package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/lab/train"
)

// --features and --noise reach config.json, the trainer's network and `hessian --run` with
// no code of the commands' own (the field table); bad values are refused with the allowed ones.
func TestRunFeaturesAndNoiseFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, _, errOut := runCLI(t, "run", "--preset", "xor", "--n", "200", "--hessian-set", "64", "--k", "3", "--steps", "3",
		"--features", "x1x2,x1,x2", "--noise", "0.3", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"features": "x1,x2,x1x2"`) || !strings.Contains(string(raw), `"noise": 0.3`) {
		t.Errorf("config.json:\n%s", raw)
	}
	cfg, err := train.LoadConfigFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sigma, set := cfg.Noise.Sigma(); !set || sigma != 0.3 || cfg.Features != train.FeaturesOf(train.X1, train.X2, train.X1X2) {
		t.Errorf("config.json reads back noise %v features %v", cfg.Noise, cfg.Features)
	}
	code, stdout, errOut := runCLI(t, "hessian", "--run", out, "--k", "3", "--json", "--hutch-samples", "0")
	if code != 0 {
		t.Fatalf("hessian --run: code %d: %s", code, errOut)
	}
	var r hessianReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	// The xor preset's network reads 3 features: P = Σ w_l (w_{l−1} + 1) over its widths.
	tr, err := train.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := tr.Model().Widths
	p := 0
	for l := 1; l < len(w); l++ {
		p += w[l] * (w[l-1] + 1)
	}
	if w[0] != 3 || r.P != p {
		t.Errorf("widths %v, hessian --run P %d, want %d", w, r.P, p)
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--preset", "mnist", "--features", "x1x2"}, []string{"features: x1x2 need 2-D data", "data mnist14 has 196 inputs"}},
		{[]string{"--preset", "mnist", "--noise", "0.1"}, []string{"noise: 0.1, but data mnist14 has no noise setting", "moons"}},
		{[]string{"--features", "x1,x3"}, []string{`unknown feature "x3"`, "valid: x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2"}},
		{[]string{"--preset", "moons", "--noise", "-1"}, []string{"σ = -1: want 0…10"}},
	} {
		args := append([]string{"run", "--steps", "1", "--quiet", "--out", filepath.Join(t.TempDir(), "bad")}, tc.args...)
		code, _, errOut := runCLI(t, args...)
		for _, w := range tc.want {
			if code == 0 || !strings.Contains(errOut, w) {
				t.Errorf("%v: code %d stderr %q, want %q", tc.args, code, errOut, w)
			}
		}
	}
}
