package train

import (
	"fmt"
	"strings"

	"sharpflat/nn"
)

// preset is a named starting configuration.
type preset struct {
	name string
	cfg  Config
}

// presets in the order Presets lists them (the README's).
var presets = func() []preset {
	base := Config{
		N: 1500, TestFrac: 1.0 / 3, Seed: 1,
		Optimizer: SGD, LR: 0.1, Beta2: 0.999, Eps: 1e-8, Batch: 32, WDom: 1, WBulk: 1,
		K: 10, RefreshEvery: 1, HessianSet: 0, Tol: 1e-6,
		EvalEvery: 10, EnergyEvery: 20, HutchSamples: 16, DivergeFactor: 20, KeepEvery: 100,
	}
	var ps []preset
	with := func(name string, f func(c *Config)) {
		c := base
		c.Preset = name
		c.Hidden = []int{16, 16}
		f(&c)
		ps = append(ps, preset{name, c})
	}
	// The calibration task (docs/SCIENCE.md): a 10-class Gaussian mixture in 20 dimensions,
	// 1000 training examples, MLP 20-16-16-10 tanh (P = 778), per-step refresh of the top 10.
	with("demo", func(c *Config) { c.Data = "gaussian" })
	with("mnist", func(c *Config) {
		c.Data, c.Hidden, c.Batch, c.HessianSet, c.RefreshEvery = "mnist14", []int{32, 32}, 64, 1024, 10
	})
	// Progressive sharpening to 2/η under full-batch gradient descent (Cohen et al. 2021):
	// MSE, 250 training examples, no minibatch noise. Measured: λ₁ rises from 2.35 to 5.46
	// by step 700, then hovers at 2/η = 5.00 while the loss keeps falling.
	with("eos", func(c *Config) {
		c.Data, c.N, c.TestFrac, c.Loss, c.Batch, c.LR, c.K, c.RefreshEvery = "gaussian", 375, 1.0/3, MSE, 0, 0.4, 2, 5
		c.Hidden = []int{32, 32}
	})
	for _, toy := range []string{"moons", "circles", "xor"} {
		with(toy, func(c *Config) { c.Data, c.K, c.Hidden = toy, 2, []int{32, 32} })
	}
	// Three interleaved arms of 1.5 turns: tanh 32-32 at η = 0.1 was still at chance after
	// 250 steps. ReLU at η = 0.7 learns at once at the same cost per step (measured, seed 1:
	// full-train loss 1.09 → 0.96 by step 300, 0.87 by 600; test accuracy 0.85 by 3000).
	with("spirals", func(c *Config) {
		c.Data, c.K, c.Hidden, c.Act, c.LR = "spirals", 3, []int{32, 32}, nn.ReLU, 0.7
	})
	with("teacher", func(c *Config) { c.Data, c.Loss, c.K, c.LR, c.Hidden = "teacher", MSE, 5, 0.05, []int{32, 32} })
	// The MNIST protocol of Song, Ahn & Yun (ICLR 2025): 5000 training images, MLP
	// 784-200-200-10 tanh, MSE, batch 50, the top-10 eigenspace of the Hessian on all 5000
	// images recomputed every step. η is ours (the paper's was not available to us).
	with("song", func(c *Config) {
		c.Data, c.Hidden, c.Loss, c.Batch, c.LR = "mnist5k", []int{200, 200}, MSE, 50, 0.1
		c.K, c.RefreshEvery, c.HessianSet, c.EvalEvery, c.EnergyEvery = 10, 1, 5000, 50, 0
	})
	return ps
}()

// Presets lists the preset names in the order of the README's table, which is the order
// the lab cycles through them: demo, mnist, eos, the 2-D toys (moons, circles, xor, spirals),
// teacher, song.
func Presets() []string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.name
	}
	return names
}

// Preset returns the named preset.
func Preset(name string) (Config, error) {
	for _, p := range presets {
		if p.name == name {
			c := p.cfg
			c.Hidden = append([]int(nil), c.Hidden...)
			return c, nil
		}
	}
	return Config{}, fmt.Errorf("unknown preset %q (allowed: %s)", name, strings.Join(Presets(), ", "))
}
