package main

// sharpflat bench --protocol: the cost of one step of Song, Ahn & Yun's MNIST protocol (the
// song preset: 784-200-200-10 tanh, MSE, batch 50, the top-10 eigenspace of the Hessian on
// 5000 images refreshed every step), measured on the trainer itself in the Bulk-SGD arm after
// a warm-up, so that the refreshes are at their steady state.

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// protocolResult is the JSON of `sharpflat bench --protocol --json`.
type protocolResult struct {
	GEMM          string  `json:"gemm"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
	P             int     `json:"P"`
	HessianSet    int     `json:"hessian_set"`
	K             int     `json:"k"`
	Warm          int     `json:"warm_steps"`
	Steps         int     `json:"timed_steps"`
	SecPerStep    float64 `json:"sec_per_step"`
	RefreshSec    float64 `json:"refresh_sec"`      // mean wall time of a refresh
	HVPsPerStep   float64 `json:"hvps_per_refresh"` // mean products per refresh
	MaxResidual   float64 `json:"max_rel_residual"` // worst reported ‖Hv − λv‖/|λ₁| over the timed refreshes
	Hours20k      float64 `json:"hours_20k_steps"`  // extrapolated: 20 000 steps at this rate
	FirstSharp    float64 `json:"lambda1"`          // λ₁ at the last step
	ProtocolSteps int     `json:"protocol_steps"`
}

// benchProtocol trains the song preset with SGD for warm steps (refreshing every step, so
// the basis is at its steady state), switches to Bulk-SGD and times steps more.
// With a profiler, the timed steps are profiled.
func benchProtocol(warm, steps int, stdout io.Writer, asJSON bool, prof *profiler) error {
	c, err := train.Preset("song")
	if err != nil {
		return err
	}
	t, err := train.New(c)
	if err != nil {
		return err
	}
	for range warm {
		if _, err := t.Step(); err != nil {
			return err
		}
	}
	bc := t.Config()
	bc.WDom, bc.WBulk = 0, 1
	if err := t.Apply(bc); err != nil {
		return err
	}
	_, _, hess := t.Data()
	r := protocolResult{GEMM: nn.GEMM(), GOMAXPROCS: runtime.GOMAXPROCS(0), P: t.Model().NumParams(), HessianSet: hess.N,
		K: c.K, Warm: warm, Steps: steps, ProtocolSteps: 20000}
	var refreshMS float64
	var hvps int
	if err := prof.start(); err != nil {
		return err
	}
	t0 := time.Now()
	for range steps {
		m, err := t.Step()
		if err != nil {
			return err
		}
		refreshMS += float64(m.RefreshMS)
		hvps += m.RefreshHVPs
		for _, res := range m.Residuals {
			r.MaxResidual = max(r.MaxResidual, res/m.Spectrum[0])
		}
		r.FirstSharp = float64(m.Sharpness)
	}
	r.SecPerStep = time.Since(t0).Seconds() / float64(steps)
	if err := prof.stop(); err != nil {
		return err
	}
	r.RefreshSec = refreshMS / 1000 / float64(steps)
	r.HVPsPerStep = float64(hvps) / float64(steps)
	r.Hours20k = r.SecPerStep * float64(r.ProtocolSteps) / 3600
	if asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "Song et al.'s MNIST protocol step (preset song: P %d, Hessian set %d, top-%d every step), %s, GOMAXPROCS=%d\n",
		r.P, r.HessianSet, r.K, r.GEMM, r.GOMAXPROCS)
	fmt.Fprintf(stdout, "after %d SGD steps, %d Bulk-SGD steps: %.3f s a step (refresh %.3f s, %.1f HVPs), worst relative residual %.2g; 20 000 steps ≈ %.1f h\n",
		warm, steps, r.SecPerStep, r.RefreshSec, r.HVPsPerStep, r.MaxResidual, r.Hours20k)
	return nil
}
