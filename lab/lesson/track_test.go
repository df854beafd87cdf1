package lesson

import (
	"math"
	"testing"

	"sharpflat/lab/train"
)

func f64(v float64) *float64 { return &v }

// metricsWith is a step's metrics with the train loss measured (v) or not (NaN).
func metricsWith(loss, trainLoss float64) *train.Metrics {
	nan := train.Num(math.NaN())
	return &train.Metrics{Loss: train.Num(loss), TrainLoss: train.Num(trainLoss), TestLoss: nan, TrainAcc: nan, TestAcc: nan,
		Sharpness: nan, StabilityThreshold: 20, ChiGrad: nan, ChiFullGrad: nan, BulkShare: nan, BulkTop: train.OptNum(math.NaN()),
		EnergyH: nan, EnergyG: nan, EnergyF: nan}
}

// Claims judged by hand: a fall of 50% (2 → 1), a change within 1% that is not, a
// throughout bound broken on the way, and claims on a metric not measured during the step,
// which fail instead of holding on a value from before it.
func TestTrackerJudgesClaims(t *testing.T) {
	tr := NewTracker()
	tr.Observe(metricsWith(3, 2)) // before the step: train_loss 2
	tr.Begin()
	for _, m := range []*train.Metrics{metricsWith(2.5, math.NaN()), metricsWith(0.5, 1.5), metricsWith(1.2, 1)} {
		tr.Observe(m)
	}
	cases := []struct {
		e    Expect
		want Verdict
	}{
		{Expect{Metric: "train_loss", FallsBy: f64(0.5)}, Holds},              // 2 → 1: −50%
		{Expect{Metric: "train_loss", FallsBy: f64(0.51)}, Fails},             // not 51%
		{Expect{Metric: "train_loss", Within: f64(0.01)}, Fails},              // −50% is not within 1%
		{Expect{Metric: "loss", Above: f64(1), Throughout: true}, Fails},      // 0.5 on the way
		{Expect{Metric: "loss", Below: f64(2.6), Throughout: true}, Holds},    // 2.5, 0.5, 1.2
		{Expect{Metric: "edge", Above: f64(19.9), Below: f64(20.1)}, Holds},   // 20 at the end
		{Expect{Metric: "test_loss", Below: f64(1), Throughout: true}, Fails}, // never measured
		{Expect{Metric: "sharpness", Within: f64(1)}, Fails},                  // never measured
	}
	for _, c := range cases {
		if got, text := tr.Check(c.e, true); got != c.want {
			t.Errorf("%s: %v (%s), want %v", Describe(c.e), got, text, c.want)
		}
	}
	if got, _ := tr.Check(Expect{Metric: "loss", Above: f64(1), Throughout: true}, false); got != Fails {
		t.Errorf("a broken throughout claim is %v before the step ends, want fails at once", got)
	}
	if got, _ := tr.Check(Expect{Metric: "train_loss", FallsBy: f64(0.5)}, false); got != Open {
		t.Errorf("a claim about the step's end is %v before it ends, want open", got)
	}
	if met, _ := tr.Met(Until{Metric: "train_loss", Below: f64(1.01)}); !met {
		t.Error("train_loss 1 < 1.01 is not met")
	}
	if met, gaveUp := tr.Met(Until{Metric: "train_loss", Below: f64(0.5), MaxSteps: 3}); met || !gaveUp {
		t.Errorf("after 3 steps without it: met %v, gave up %v; want false, true", met, gaveUp)
	}
}
