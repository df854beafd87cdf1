package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/gonum/blas"

	"sharpflat/internal/gemm"
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

	// The machine the figures were measured on (issue 22: no figure without its machine).
	CPU        string  `json:"cpu"`
	Kernel     string  `json:"gemm_kernel"`
	PeakGFLOPS float64 `json:"peak_gflops"` // one core's FMA peak, measured in the same run
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "[--json] [--cpuprofile FILE] ([--runs N] [--net NAME] | --protocol [--warm N] [--steps N])", stdout, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per net, one per line")
	runs := fs.Int("runs", 7, "timed runs per measurement (the median is reported)")
	only := fs.String("net", "all", "which nets: all, demo or mnist")
	protocol := fs.Bool("protocol", false, "time steps of Song et al.'s MNIST protocol (preset song) instead: seconds a step, HVPs a refresh, 20k-step time")
	warm := fs.Int("warm", 50, "with --protocol: SGD steps before the timed ones (the refresh reaches its steady state)")
	steps := fs.Int("steps", 10, "with --protocol: Bulk-SGD steps timed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed part to `FILE` (go tool pprof): the timed steps with --protocol, the nets' measurements otherwise")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *protocol && (*warm < 0 || *steps < 1) {
		return usagef("bench: --warm %d ≥ 0 and --steps %d ≥ 1 required", *warm, *steps)
	}
	if *runs < 1 {
		return usagef("bench: --runs %d, want ≥ 1", *runs)
	}
	if *only != "all" && *only != "demo" && *only != "mnist" {
		return usagef("bench: --net %q (allowed: all, demo, mnist)", *only)
	}
	prof := profiler{path: *cpuprofile}
	if err := prof.open(); err != nil {
		return err
	}
	defer prof.stop()
	if *protocol {
		return benchProtocol(*warm, *steps, stdout, *asJSON, &prof)
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
	peak := gemm.PeakGFLOPS(500 * time.Millisecond)
	if !*asJSON {
		fmt.Fprintf(stdout, "sharpflat bench: float64, GOMAXPROCS=%d, median of %d runs\n", runtime.GOMAXPROCS(0), *runs)
		if err := benchGEMM(stdout, peak, *runs); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	if !*asJSON {
		fmt.Fprintln(tw, "net\tP\tbatch\tgradient ms\tHVP ms\tGGN ms\tLanczos top-10 ms\tHVPs\tHVP/grad\t")
	}
	if err := prof.start(); err != nil {
		return err
	}
	for _, n := range nets {
		if *only != "all" && !strings.HasPrefix(n.name, *only) {
			continue
		}
		r, err := benchNet(n.name, n.widths, &n.data, *runs)
		if err != nil {
			return err
		}
		r.CPU, r.Kernel, r.PeakGFLOPS = gemm.ThisMachine().CPU, gemm.Kernel(), peak
		if *asJSON {
			if err := json.NewEncoder(stdout).Encode(r); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.1f\t%d\t%.2f\t\n", r.Net, r.P, r.Batch, r.GradMS, r.HVPMS, r.GGNMS, r.LanczosMS, r.LanczosHVPs, r.HVPOverGrad)
	}
	if err := prof.stop(); err != nil {
		return err
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

// benchShapes are GEMMs of the nets' passes, one 256-row chunk (nn splits batches into
// chunks of 256): forward x·Wᵀ (NT), weight gradient δᵀ·a (TN), input gradient δ·W (NN).
var benchShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"mnist forward, NT 256×128×784", blas.NoTrans, blas.Trans, 256, 128, 784},
	{"mnist ∂W₁, TN 128×784×256", blas.Trans, blas.NoTrans, 128, 784, 256},
	{"song forward, NT 256×200×784", blas.NoTrans, blas.Trans, 256, 200, 784},
	{"song ∂W₁, TN 200×784×256", blas.Trans, blas.NoTrans, 200, 784, 256},
	{"song input gradient, NN 256×200×200", blas.NoTrans, blas.NoTrans, 256, 200, 200},
	{"demo forward, NT 256×16×20", blas.NoTrans, blas.Trans, 256, 16, 20},
	{"demo ∂W₁, TN 16×20×256", blas.Trans, blas.NoTrans, 16, 20, 256},
}

// benchGEMM prints the machine, the GEMM kernel and its blocking, the FMA peak measured in
// this run, and the GEMM shapes' GFLOP/s on one core as a share of that peak.
func benchGEMM(w io.Writer, peak float64, runs int) error {
	kc, nc := gemm.Blocking()
	fmt.Fprintf(w, "machine: %s\n", gemm.ThisMachine())
	if peak > 0 {
		fmt.Fprintf(w, "GEMM kernel %s, blocks kc %d × nc %d; one core's FMA peak, measured now: %.1f GFLOP/s\n", gemm.Kernel(), kc, nc, peak)
	} else {
		fmt.Fprintf(w, "GEMM kernel %s, blocks kc %d × nc %d; no FMA peak loop for this kernel\n", gemm.Kernel(), kc, nc)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "GEMM, one core, fastest of 3×runs\tGFLOP/s\t% of peak\t")
	for _, s := range benchShapes {
		a, b, c := make([]float64, s.m*s.k), make([]float64, s.k*s.n), make([]float64, s.m*s.n)
		for i := range a {
			a[i] = float64(i%13) - 6
		}
		for i := range b {
			b[i] = float64(i%11) - 5
		}
		lda, ldb := s.k, s.n
		if s.tA == blas.Trans {
			lda = s.m
		}
		if s.tB == blas.Trans {
			ldb = s.k
		}
		flops := 2 * float64(s.m*s.n*s.k)
		reps := max(1, int(2e7/flops)) // ≈ 20 MFLOP a timing
		// The fastest of 3·runs timings, as the peak is the fastest of its slices.
		ms := math.Inf(1)
		for range 3 * runs {
			t0 := time.Now()
			for range reps {
				gemm.Dgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
			}
			ms = min(ms, float64(time.Since(t0).Nanoseconds())/1e6)
		}
		rate := flops * float64(reps) / ms / 1e6
		share := "—"
		if peak > 0 {
			share = fmt.Sprintf("%.0f%%", 100*rate/peak)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t\n", s.name, rate, share)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w)
	return err
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
