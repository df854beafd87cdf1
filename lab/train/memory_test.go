package train

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/nn"
)

// memTotal reads MemTotal from /proc/meminfo with fmt.Sscanf (the reference for the
// package's own parser); 0 where there is no /proc.
func memTotal(t *testing.T) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return kb * 1024
		}
	}
	return 0
}

// A limit above the machine's memory is capped at it: with `--max-memory 100T` a
// 100000-100000 network (about 17 TB) used to pass the check and die of a runtime
// out-of-memory fatal error with a stack dump. The refusal names the estimate and the cap.
func TestMemoryLimitCappedAtPhysicalMemory(t *testing.T) {
	phys := memTotal(t)
	if phys == 0 {
		t.Skip("no /proc/meminfo: the physical memory is not known here")
	}
	defer SetMemoryLimit(0)
	SetMemoryLimit(100 << 40)
	if got := MemoryLimit(); got != phys {
		t.Errorf("limit 100 TiB on a machine of %d bytes: MemoryLimit %d, want the physical memory", phys, got)
	}
	SetMemoryLimit(phys / 4)
	if got := MemoryLimit(); got != phys/4 {
		t.Errorf("limit below the physical memory: MemoryLimit %d, want %d", got, phys/4)
	}
	SetMemoryLimit(100 << 40)
	cfg, _ := Preset("demo")
	cfg.Hidden = []int{100000, 100000}
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "this configuration needs about") ||
		!strings.Contains(err.Error(), "physical memory "+Bytes(float64(phys))) {
		t.Errorf("New of a 100000-100000 network under a 100 TiB limit: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "--") {
		t.Errorf("the capped refusal names a command-line flag: %v", err)
	}
}

// train's refusal reaches lab and classroom users, who have no --max-memory flag: it says
// "the memory limit", names no flag, and is a *LimitError, which the commands that parse
// the flag recognise (errors.As) to add its name. 10 MiB = 10485760 B is "10.5 MB".
func TestMemoryRefusalNamesNoFlag(t *testing.T) {
	defer SetMemoryLimit(0)
	SetMemoryLimit(10 << 20)
	cfg, _ := Preset("demo")
	cfg.Hidden = []int{300, 300}
	_, err := New(cfg)
	if err == nil {
		t.Fatal("a 300-300 network under 10 MiB was accepted")
	}
	if want := "the memory limit is 10.5 MB"; !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %q does not say %q", err, want)
	}
	if strings.Contains(err.Error(), "--") {
		t.Errorf("the refusal names a command-line flag: %v", err)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != 10<<20 || le.Set != 0 {
		t.Errorf("errors.As(%v, *LimitError) = %+v", err, le)
	}
}

// ConfigFootprint is what New checks, without building anything: for each configuration the
// estimate equals the Footprint of the trainer New returns (the reference: the data actually
// loaded, split and mapped through the features).
func TestConfigFootprintIsNewsFootprint(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "plane.csv")
	var b strings.Builder
	b.WriteString("u,v,label\n")
	for i := range 50 {
		fmt.Fprintf(&b, "%g,%g,%d\n", float64(i%7)/7, float64(i%3)/3, i%3)
	}
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(c *Config){
		"demo":      func(c *Config) {},
		"features":  func(c *Config) { c.Data, c.Features = "moons", FeaturesOf(X1, X2, X1Sq, X2Sq, X1X2, SinX1) },
		"noise":     func(c *Config) { c.Data, c.Noise, c.TestFrac = "spirals", NoiseOf(0.3), 0.37 },
		"teacher":   func(c *Config) { c.Data, c.Loss, c.N = "teacher", nn.MSE, 301 },
		"mnist14":   func(c *Config) { c.Data, c.Hidden = "mnist14", []int{5} },
		"mnist5k":   func(c *Config) { c.Data, c.Hidden, c.HessianSet = "mnist5k", []int{3}, 0 },
		"csv":       func(c *Config) { c.Data, c.Batch, c.HessianSet, c.Features = csv, 0, 0, FeaturesOf(X1X2, SinX2) },
		"no-test":   func(c *Config) { c.TestFrac, c.N, c.Batch, c.HessianSet = 0, 9, 0, 0 },
		"big-batch": func(c *Config) { c.Batch, c.HessianSet = 0, 0 },
	}
	for name, edit := range cases {
		c := small()
		edit(&c)
		got, err := ConfigFootprint(&c)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		tr, err := New(c)
		if err != nil {
			t.Fatalf("%s: New: %v", name, err)
		}
		if want := tr.Footprint(); got != want {
			t.Errorf("%s: ConfigFootprint %+v, New's trainer %+v", name, got, want)
		}
	}
}

// ConfigFootprint refuses what New refuses, with New's words.
func TestConfigFootprintErrors(t *testing.T) {
	cases := map[string]struct {
		edit func(c *Config)
		want string
	}{
		"batch":   {func(c *Config) { c.N, c.TestFrac, c.Batch, c.HessianSet = 20, 0.2, 64, 0 }, "batch: 64, but the training set has 16 examples"}, // 20·(1 − 0.2)
		"k":       {func(c *Config) { c.Hidden, c.K, c.Data = nil, 6, "xor" }, "k: 6, but the network has 6 parameters"},
		"ce":      {func(c *Config) { c.Data = "teacher" }, "regression set"},
		"unknown": {func(c *Config) { c.Data = "swiss-roll" }, `unknown synthetic data set "swiss-roll"`},
		"noise":   {func(c *Config) { c.Data, c.Noise = "mnist", NoiseOf(0.1) }, "has no noise setting"},
		"invalid": {func(c *Config) { c.LR = -1 }, "lr: -1"},
	}
	for name, tc := range cases {
		c := small()
		tc.edit(&c)
		_, err := ConfigFootprint(&c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
		if _, nerr := New(c); nerr == nil || err == nil || nerr.Error() != err.Error() {
			t.Errorf("%s: New says %v, ConfigFootprint %v", name, nerr, err)
		}
	}
}

// An absurd n is refused for its memory, as New refuses it, not by sizes overflowed into
// nonsense ("the training set has -9223372036854775808 examples", found in review).
func TestConfigFootprintAbsurdN(t *testing.T) {
	c := small()
	c.N, c.TestFrac = math.MaxInt, 0
	fp, err := ConfigFootprint(&c)
	if err != nil {
		t.Fatalf("ConfigFootprint: %v, want the data's footprint", err)
	}
	var le *LimitError
	if cerr := fp.Check("this setup", MemoryLimit()); !errors.As(cerr, &le) {
		t.Errorf("the estimate %v passes the limit", fp)
	}
	if _, nerr := New(c); !errors.As(nerr, &le) {
		t.Errorf("New: %v, want the memory refusal", nerr)
	}
}

// NumParams is the P of the network New builds, without building it: counted by hand for a
// 2-D set with features, and against New for the presets.
func TestNumParams(t *testing.T) {
	c := small()
	c.Data, c.Hidden, c.Features = "xor", []int{7}, FeaturesOf(X1, X2, X1X2)
	if p, err := NumParams(&c); err != nil || p != 3*7+7+7*2+2 { // 3 inputs → 7 → 2 classes: 44
		t.Errorf("xor 3-7-2: P %d (%v), want 44", p, err)
	}
	for _, name := range []string{"demo", "moons", "spirals", "teacher", "mnist"} {
		c, _ := Preset(name)
		tr, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := NumParams(&c); err != nil || p != tr.Model().NumParams() {
			t.Errorf("%s: NumParams %d (%v), New's network %d", name, p, err, tr.Model().NumParams())
		}
	}
}
