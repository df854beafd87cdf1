package experiment

// song: the MNIST protocol of Song, Ahn & Yun (ICLR 2025) at full scale. 5000 MNIST training
// images, MLP 784-200-200-10 tanh, MSE, batch 50; SGD for a warm-up, then SGD, Dom-SGD and
// Bulk-SGD from the same point with the top-10 eigenspace of the Hessian on all 5000 images
// recomputed every step. The warm-up trains with SGD, whose update does not depend on the
// basis, so it refreshes the basis less often (for the χ it reports); the arms refresh every
// step. The same figures and report as switch.

import (
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// Song is the song experiment: the MNIST protocol of Song et al. at full scale.
var Song = &Experiment{
	Name:    "song",
	Summary: "Song et al.'s MNIST protocol at full scale (784-200-200-10, 5000 images, top-10 every step): SGD, Dom-SGD, Bulk-SGD",
	Preset:  "song",
	Heavy:   true,
	// The warm-up refreshes every 10 steps; the arms every --refreshes (default 1).
	Config:      []Setting{RefreshEvery(10)},
	QuickConfig: []Setting{Hidden(16, 16), HessianSet(200), EvalEvery(5)},
	Swept: map[string]string{"seed": "--seeds", "loss": "--losses", "alpha": "(the arms set it)", "w-dom": "(the arms set it)",
		"w-bulk": "(the arms set it)"},
	Defaults: func(quick bool) Sweep {
		if quick {
			return Sweep{Seeds: []uint64{1}, Losses: []nn.Loss{nn.MSE}, Refreshes: []int{1}, Warmup: 20, Steps: 10, Target: 0.5}
		}
		return Sweep{Seeds: []uint64{1}, Losses: []nn.Loss{nn.MSE}, Refreshes: []int{1}, Warmup: 1000, Steps: 2000, Target: 0.5}
	},
	plan: planSong,
	report: func(res *Results, s Sweep) (*Report, error) {
		return switchReport{name: "song", title: "song — Song, Ahn & Yun's MNIST protocol: Dom-SGD, Bulk-SGD and SGD from the same point",
			intro: "Protocol (the MNIST protocol of Song, Ahn & Yun 2025)"}.report(res, s)
	},
	narrow: narrowSwitch,
}

func planSong(base train.Config, s Sweep) Plan {
	p := planSwitch(base, s)
	for gi := range p.Groups {
		for ai := range p.Groups[gi].Arms {
			p.Groups[gi].Arms[ai].Config.RefreshEvery = s.Refreshes[0]
		}
	}
	return p
}
