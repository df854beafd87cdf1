//go:build explore

package lab

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestExplore(t *testing.T) {
	c, _ := Preset("demo")
	c.RefreshEvery, c.EnergyEvery = 5, 0
	g := Group{Name: "seed1", Config: c, Warmup: 300, Probe: 25}
	for _, lr := range []float64{0.5, 1, 2, 3, 4, 6, 8} {
		a := g.ArmOf(fmt.Sprintf("sgd_lr%g", lr), 300)
		a.LR = lr
		g.Arms = append(g.Arms, a)
		b := a
		b.Name, b.WDom = fmt.Sprintf("bulk_lr%g", lr), 0
		g.Arms = append(g.Arms, b)
	}
	res, err := RunPlan(context.Background(), Plan{Experiment: "explore", Groups: []Group{g}}, RunOptions{Dir: os.Getenv("XDIR"), Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Arms {
		fmt.Printf("%-12s start %.4f end %.4f maxtrain %.4g maxbatch %.4g div %d chi %.3f λ1 end %.3f max %.3f wall %.1f\n", r.Arm.Name, r.Start.TrainLoss, r.End.TrainLoss, r.MaxTrainLoss, r.MaxBatchLoss, r.Diverg, r.MeanChi, r.FinalSharpness, r.MaxSharpness, r.WallS)
	}
	fmt.Println(res.Arms[0].Start.Spectrum)
}
