package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"sharpflat/lab/train"
	"sharpflat/linalg"
	"sharpflat/nn"
)

// benchResult is one line of `sharpflat bench --json`.
type benchResult struct {
	Net         string  `json:"net"`
	P           int     `json:"P"`
	Batch       int     `json:"batch"`
	GradMS      float64 `json:"grad_ms"`
	HVPMS       float64 `json:"hvp_ms"`
	GGNMS       float64 `json:"ggn_ms"`
	LanczosMS   float64 `json:"lanczos_ms"`
	LanczosHVPs int     `json:"lanczos_hvps"`
	HVPOverGrad float64 `json:"hvp_over_grad"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "[--json] [--runs N] [--net NAME] | --protocol [--warm N] [--steps N]", stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per net, one per line")
	runs := fs.Int("runs", 7, "timed runs per measurement (the median is reported)")
	only := fs.String("net", "all", "which nets: all, demo or mnist")
	protocol := fs.Bool("protocol", false, "time steps of Song et al.'s MNIST protocol (preset song) instead: seconds a step, HVPs a refresh, 20k-step time")
	warm := fs.Int("warm", 50, "with --protocol: SGD steps before the timed ones (the refresh reaches its steady state)")
	steps := fs.Int("steps", 10, "with --protocol: Bulk-SGD steps timed")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *protocol {
		if *warm < 0 || *steps < 1 {
			return usagef("bench: --warm %d ≥ 0 and --steps %d ≥ 1 required", *warm, *steps)
		}
		return benchProtocol(*warm, *steps, stdout, *asJSON)
	}
	if *runs < 1 {
		return usagef("bench: --runs %d, want ≥ 1", *runs)
	}
	if *only != "all" && *only != "demo" && *only != "mnist" {
		return usagef("bench: --net %q (allowed: all, demo, mnist)", *only)
	}
	demo, err := train.Preset("demo")
	if err != nil {
		return err
	}
	gm, err := nn.Synthetic(demo.Data, demo.N, demo.Seed)
	if err != nil {
		return err
	}
	mnist, _, err := nn.MNISTSubset()
	if err != nil {
		return err
	}
	nets := []struct {
		name   string
		widths []int
		data   nn.Dataset
	}{
		{"demo 20-16-16-10 tanh", []int{20, 16, 16, 10}, train.Subsample(&gm, 1000, 1)},
		{"mnist 784-128-128-10 tanh", []int{784, 128, 128, 10}, train.Subsample(&mnist, 1024, 1)},
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "sharpflat bench: float64, GOMAXPROCS=%d, median of %d runs\n", runtime.GOMAXPROCS(0), *runs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	if !*asJSON {
		fmt.Fprintln(tw, "net\tP\tbatch\tgradient ms\tHVP ms\tGGN ms\tLanczos top-10 ms\tHVPs\tHVP/grad\t")
	}
	for _, n := range nets {
		if *only != "all" && !strings.HasPrefix(n.name, *only) {
			continue
		}
		r, err := benchNet(n.name, n.widths, &n.data, *runs)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := json.NewEncoder(stdout).Encode(r); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.1f\t%d\t%.2f\t\n", r.Net, r.P, r.Batch, r.GradMS, r.HVPMS, r.GGNMS, r.LanczosMS, r.LanczosHVPs, r.HVPOverGrad)
	}
	return tw.Flush()
}

func benchNet(name string, widths []int, data *nn.Dataset, runs int) (benchResult, error) {
	m, err := nn.NewMLP(widths, nn.Tanh, nn.CrossEntropy)
	if err != nil {
		return benchResult{}, err
	}
	theta := make([]float64, m.NumParams())
	m.Init(theta, nn.InitPyTorch, 1)
	b, err := m.Bind(theta, data)
	if err != nil {
		return benchResult{}, err
	}
	v, dst := make([]float64, len(theta)), make([]float64, len(theta))
	for i := range v {
		v[i] = float64(i%7) - 3
	}
	r := benchResult{Net: name, P: len(theta), Batch: data.N}
	r.GradMS = medianMS(runs, func() {
		if err = b.Rebind(theta, data); err != nil {
			panic(err)
		}
	})
	r.HVPMS = medianMS(runs, func() { b.HVP(dst, v) })
	r.GGNMS = medianMS(runs, func() { b.GGNVP(dst, v) })
	r.LanczosMS = medianMS(max(1, runs/3), func() {
		c := &linalg.Counter{Op: b.Op(nn.Hessian)}
		linalg.Lanczos(c, linalg.EigOptions{K: 10, Tol: 1e-8, Seed: 1})
		r.LanczosHVPs = c.Products
	})
	r.HVPOverGrad = r.HVPMS / r.GradMS
	return r, nil
}

// medianMS runs f once to warm up, then runs times, and returns the median in milliseconds.
func medianMS(runs int, f func()) float64 {
	f()
	t := make([]float64, runs)
	for i := range t {
		t0 := time.Now()
		f()
		t[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	slices.Sort(t)
	return t[len(t)/2]
}
