package lesson

import (
	"math"
	"slices"

	"sharpflat/lab/train"
)

// metric is a quantity a condition or a claim can name.
type metric struct {
	name string
	help string
	get  func(m *train.Metrics) float64 // NaN when not measured on this step
}

// metrics are the names a lesson may use, in the order docs/LESSONS.md lists them.
var metrics = []metric{
	{"loss", "minibatch loss (every step)", func(m *train.Metrics) float64 { return float64(m.Loss) }},
	{"train_loss", "loss on the whole training set (every eval_every steps)", func(m *train.Metrics) float64 { return float64(m.TrainLoss) }},
	{"test_loss", "loss on the test set", func(m *train.Metrics) float64 { return float64(m.TestLoss) }},
	{"train_acc", "accuracy on the training set (classification)", func(m *train.Metrics) float64 { return float64(m.TrainAcc) }},
	{"test_acc", "accuracy on the test set", func(m *train.Metrics) float64 { return float64(m.TestAcc) }},
	{"sharpness", "λ₁, the top Hessian eigenvalue", func(m *train.Metrics) float64 { return float64(m.Sharpness) }},
	{"bulk_top", "λ_{k+1}, the top of the Bulk", func(m *train.Metrics) float64 { return float64(m.BulkTop) }},
	{"edge", "the stability threshold 2/η, or (2+2β)/η with momentum", func(m *train.Metrics) float64 { return float64(m.StabilityThreshold) }},
	{"sharpness/edge", "λ₁ divided by the edge (1: at the edge of stability)", func(m *train.Metrics) float64 {
		return float64(m.Sharpness) / float64(m.StabilityThreshold)
	}},
	{"bulk_top/edge", "λ_{k+1} divided by the edge", func(m *train.Metrics) float64 {
		return float64(m.BulkTop) / float64(m.StabilityThreshold)
	}},
	{"chi_grad", "χ = ‖P_dom g‖/‖g‖ of the minibatch gradient", func(m *train.Metrics) float64 { return float64(m.ChiGrad) }},
	{"chi_full_grad", "χ of the full training gradient (every eval_every steps)", func(m *train.Metrics) float64 { return float64(m.ChiFullGrad) }},
	{"chi_random", "√(k/P), the χ of a random direction", nil}, // set by Tracker from k and P
	{"bulk_share", "1 − χ² of the minibatch gradient", func(m *train.Metrics) float64 { return float64(m.BulkShare) }},
	{"g_share", "the Gauss–Newton share vᵀGv/λ of the top eigenvalue (on a recompute)", func(m *train.Metrics) float64 {
		if len(m.Spectrum) == 0 || len(m.GGNRayleigh) == 0 || m.Spectrum[0] == 0 {
			return math.NaN()
		}
		return m.GGNRayleigh[0] / m.Spectrum[0]
	}},
	{"outliers", "how many of the top eigenvalues stand apart from the bulk (train.Outliers on λ₁…λₖ₊₁, on a refresh)", func(m *train.Metrics) float64 {
		if !m.Refreshed || len(m.Spectrum) == 0 {
			return math.NaN()
		}
		n, _ := train.Outliers(m.Spectrum, float64(m.BulkTop))
		return float64(n)
	}},
	{"batch_sharpness", "λ_B, the minibatch Hessian's curvature along its own gradient, averaged over fresh minibatches (every batch_sharpness_every steps)", func(m *train.Metrics) float64 {
		return float64(m.BatchSharpness)
	}},
	{"update_sharpness", "λ_d, the same along the update in force (P_bulk g_B under Bulk-SGD)", func(m *train.Metrics) float64 {
		return float64(m.UpdateSharpness)
	}},
	{"update_sharpness/edge", "λ_d divided by the edge (1: the update's batch curvature at the edge)", func(m *train.Metrics) float64 {
		return float64(m.UpdateSharpness) / float64(m.StabilityThreshold)
	}},
	{"energy_H", "share of ‖H‖²_F in the top-k eigenspace", func(m *train.Metrics) float64 { return float64(m.EnergyH) }},
	{"energy_G", "share of ‖G‖²_F (Gauss–Newton) in the top-k eigenspace", func(m *train.Metrics) float64 { return float64(m.EnergyG) }},
	{"energy_F", "share of ‖F‖²_F (functional part) in the top-k eigenspace", func(m *train.Metrics) float64 { return float64(m.EnergyF) }},
}

// Metrics lists the metric names a lesson may use.
func Metrics() []string {
	names := make([]string, len(metrics))
	for i, m := range metrics {
		names[i] = m.name
	}
	return names
}

// MetricHelp says what a metric is ("" for an unknown name).
func MetricHelp(name string) string {
	if i := slices.IndexFunc(metrics, func(m metric) bool { return m.name == name }); i >= 0 {
		return metrics[i].help
	}
	return ""
}

// IsMetric reports whether name is a metric a lesson may use.
func IsMetric(name string) bool { return MetricHelp(name) != "" }
