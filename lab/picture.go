package lab

// Pictures of what the network has learned, for the lab's picture panel (like TensorFlow
// Playground's): for data with two features, the class the network predicts over the
// plane and how sure it is there, with the training (and test) points on top; for any other classification data, the test
// points projected on the top two principal components of the test inputs, each marked
// with its true class and coloured by the predicted one. The principal components come
// from the covariance of the centred test inputs x̃ = x − μ,
//
//	C = (1/N) Σₓ x̃ x̃ᵀ,   C uᵢ = λᵢ uᵢ,   λ₁ ≥ λ₂ ≥ …
//
// and a point's coordinates are (x̃·u₁, x̃·u₂); λᵢ / tr C is the share of the variance
// along uᵢ. The top two pairs are found by Lanczos on v ↦ X̃ᵀ(X̃ v)/N, never forming C,
// once per data set.
//
// With input features (train.FeatureSet) the network does not read the point (x₁, x₂) but
// its feature vector φ(x₁, x₂), e.g. (x₁, x₂, x₁x₂): the picture stays over the plane of the
// raw points, which the trainer's data no longer hold, so the Painter rebuilds them
// (train.PlaneData, once per data set) and runs the network on φ of every grid point, every
// drawn point and every neuron-tile sample.

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"sharpflat/lab/train"
	"sharpflat/linalg"
	"sharpflat/nn"
)

// PictureKind says what a Picture shows.
type PictureKind int

const (
	// PictureRegions is the predicted class over the plane of 2-D data (Grid), with the
	// training points on top.
	PictureRegions PictureKind = iota
	// PictureProjection is the test points projected on the top two principal components
	// of the test inputs; it has no Grid.
	PictureProjection
)

func (k PictureKind) String() string {
	switch k {
	case PictureRegions:
		return "decision regions"
	case PictureProjection:
		return "projection"
	}
	return fmt.Sprintf("PictureKind(%d)", int(k))
}

// The picture's fixed sizes: the grid is sampled at any panel size, and the points are
// capped so that a picture stays small and cheap.
const (
	PictureGridW     = 128 // grid columns
	PictureGridH     = 96  // grid rows
	MaxPicturePoints = 600 // the most points a picture carries
)

// Picture is what the network has learned, for display: decision regions over the plane of
// 2-D data, or the test points projected on two principal components. It shares nothing with
// the trainer and is never modified once Paint returns, so it may be sent to any goroutine.
type Picture struct {
	Step    int // the step it shows
	Kind    PictureKind
	Classes int // classes of the data set (the network may have more outputs)

	// The extent of the plane drawn: X0 ≤ x ≤ X1, Y0 ≤ y ≤ Y1.
	X0, X1, Y0, Y1 float64

	// Grid is the predicted class of each of GW×GH cells of the extent, row-major, row 0
	// at the top (Y1), column 0 at the left (X0), each predicted at its centre. It is nil
	// for a projection.
	GW, GH int
	Grid   []uint8
	// Conf is the network's probability of the predicted class at each cell of Grid (see
	// confidence): 1/C where it cannot tell the classes apart, 1 where it is sure. It is
	// what shades the picture, so a class sees where the network hesitates.
	Conf []float32

	// Points are the points drawn (at most MaxPicturePoints, evenly spaced through the set):
	// training points for regions, test points for a projection.
	Points []PicturePoint
	// Test are test points (at most MaxPicturePoints, evenly spaced) for regions, drawn on
	// request over the training points; nil for a projection, whose Points are test points.
	Test []PicturePoint

	// XLabel and YLabel name the axes: "x₁" and "x₂", or "PC1 (23% of variance)".
	XLabel, YLabel string

	// Neurons is what each unit computes (the neurons view): over the extent for regions,
	// the mean activation per class of the points drawn for a projection.
	Neurons *Neurons
}

// PicturePoint is one example: its place in the picture's plane, its true class and the class
// the network predicts for it.
type PicturePoint struct {
	X, Y        float64
	Class, Pred uint8
}

// RegionAt returns the grid's class at (x, y), and false outside the extent or without a grid.
func (p *Picture) RegionAt(x, y float64) (uint8, bool) {
	if p == nil || p.GW <= 0 || p.GH <= 0 || len(p.Grid) != p.GW*p.GH {
		return 0, false
	}
	fx, fy := (x-p.X0)/(p.X1-p.X0), (p.Y1-y)/(p.Y1-p.Y0) // in [0, 1] inside
	if !(fx >= 0 && fx <= 1 && fy >= 0 && fy <= 1) {
		return 0, false
	}
	gx := min(p.GW-1, int(fx*float64(p.GW)))
	gy := min(p.GH-1, int(fy*float64(p.GH)))
	return p.Grid[gy*p.GW+gx], true
}

// CellAt returns the grid's class at (x, y) and the network's probability of it there, and
// false outside the extent or without a grid (or without confidences: then q is 1).
func (p *Picture) CellAt(x, y float64) (c uint8, q float32, ok bool) {
	if p == nil || p.GW <= 0 || p.GH <= 0 || len(p.Grid) != p.GW*p.GH {
		return 0, 0, false
	}
	fx, fy := (x-p.X0)/(p.X1-p.X0), (p.Y1-y)/(p.Y1-p.Y0)
	if !(fx >= 0 && fx <= 1 && fy >= 0 && fy <= 1) {
		return 0, 0, false
	}
	i := min(p.GH-1, int(fy*float64(p.GH)))*p.GW + min(p.GW-1, int(fx*float64(p.GW)))
	q = 1
	if len(p.Conf) == len(p.Grid) {
		q = p.Conf[i]
	}
	return p.Grid[i], q, true
}

// Accuracy is the share of the points whose predicted class is their true class.
func (p *Picture) Accuracy() float64 {
	if p == nil || len(p.Points) == 0 {
		return math.NaN()
	}
	right := 0
	for _, pt := range p.Points {
		if pt.Class == pt.Pred {
			right++
		}
	}
	return float64(right) / float64(len(p.Points))
}

// Painter paints Pictures of a trainer. It keeps what depends only on the data (the extent,
// the points drawn, the grid's sample positions, the principal components) from one Paint to
// the next, for as long as the trainer's data sets are the same. A Painter is not safe for
// concurrent use; the Pictures it returns are.
type Painter struct {
	train, test *nn.Dataset // the data sets the cache below belongs to (nil: none yet)

	kind           PictureKind
	x0, x1, y0, y1 float64
	xlabel, ylabel string
	// The network's inputs (D its input width: 2, or the number of features) at:
	samples    []float64      // (GW·GH, D) the grid's cell centres (regions)
	inputs     []float64      // (n, D) the points drawn
	points     []PicturePoint // the points drawn, Pred unset
	testInputs []float64      // (n, D) the test points drawn (regions)
	testPoints []PicturePoint // the test points drawn, Pred unset (regions)
	tiles      []float64      // (NeuronTileW·NeuronTileH, D) the neuron tiles' sample centres (regions)
	labels     []int          // the classes of the points drawn (for the neurons of a projection)
	pred       []int          // scratch for predictions
	out        []float64      // scratch (GW·GH, w_L) for the grid's outputs

	// noNeurons leaves Picture.Neurons nil: only BenchmarkNeuronsCost sets it, to weigh the
	// neurons' share of a picture's cost on the step rate.
	noNeurons bool
}

// NewPainter returns a Painter with nothing cached yet.
func NewPainter() *Painter { return &Painter{} }

// Paint draws the trainer's current state; nil for regression data. The first Paint of a data
// set computes its principal components (for D > 2); later ones only run the network over the
// grid and the points.
func (p *Painter) Paint(t *train.Trainer) *Picture {
	tr, te, _ := t.Data()
	if tr.Classes == 0 {
		return nil
	}
	if p.train != tr || p.test != te {
		c := t.Config()
		p.prepare(tr, te, &c)
	}
	m, theta := t.Model(), t.Theta()
	pic := &Picture{
		Step: t.StepCount(), Kind: p.kind, Classes: tr.Classes,
		X0: p.x0, X1: p.x1, Y0: p.y0, Y1: p.y1,
		XLabel: p.xlabel, YLabel: p.ylabel,
	}
	if p.kind == PictureRegions {
		n := PictureGridW * PictureGridH
		w := m.Widths[len(m.Widths)-1]
		if len(p.out) != n*w {
			p.out = make([]float64, n*w)
		}
		m.Forward(p.out, theta, p.samples)
		pic.GW, pic.GH = PictureGridW, PictureGridH
		pic.Grid, pic.Conf = make([]uint8, n), make([]float32, n)
		for i := range n {
			c, q := confidence(p.out[i*w:(i+1)*w], m.Loss)
			pic.Grid[i], pic.Conf[i] = classByte(c), float32(q)
		}
		pic.Test = p.predicted(m, theta, p.testPoints, p.testInputs)
	}
	pic.Points = p.predicted(m, theta, p.points, p.inputs)
	if !p.noNeurons {
		pic.Neurons = paintNeurons(m, theta, p.kind == PictureRegions, p.tiles, p.inputs, p.labels, tr.Classes)
	}
	return pic
}

// predicted returns a copy of points with each one's Pred the network's class at its input
// (inputs holds them row by row).
func (p *Painter) predicted(m *nn.MLP, theta []float64, points []PicturePoint, inputs []float64) []PicturePoint {
	n := len(points)
	m.Predict(p.pred[:n], theta, inputs)
	out := make([]PicturePoint, n)
	for i, pt := range points {
		pt.Pred = classByte(p.pred[i])
		out[i] = pt
	}
	return out
}

// confidence returns the class the network predicts from its output f (the first largest,
// as Predict) and the probability it gives that class: for cross-entropy the softmax
//
//	p_c = exp(f_c − f_max) / Σⱼ exp(f_j − f_max),
//
// and for MSE, whose outputs are fitted to one-hot targets and are not probabilities, the
// winning output clipped to [0, 1] (0.5 between two classes that each reach half way).
func confidence(f []float64, loss nn.Loss) (int, float64) {
	best := 0
	for j, v := range f {
		if v > f[best] {
			best = j
		}
	}
	if loss != nn.CrossEntropy {
		return best, math.Min(1, math.Max(0, f[best]))
	}
	s := 0.0
	for _, v := range f {
		s += math.Exp(v - f[best])
	}
	if !(s >= 1) { // NaN outputs: nothing is known
		return best, 0
	}
	return best, 1 / s
}

// classByte stores a class index in a byte (the lab's data sets have far fewer classes).
func classByte(c int) uint8 { return uint8(min(max(c, 0), math.MaxUint8)) }

// prepare fills the cache for a new pair of data sets, those of a trainer of config c.
func (p *Painter) prepare(tr, te *nn.Dataset, c *train.Config) {
	*p = Painter{train: tr, test: te, noNeurons: p.noNeurons}
	plane, planeTest := tr, te
	if !c.Features.IsZero() {
		plane, planeTest = rawPlane(c, tr, te)
	}
	if plane != nil && plane.D == 2 {
		p.prepareRegions(plane, planeTest)
	} else {
		set := te
		if te.N == 0 {
			set = tr // no test set: project the training set instead
		}
		p.prepareProjection(set)
	}
	p.pred = make([]int, max(len(p.points), len(p.testPoints)))
	p.labels = make([]int, len(p.points))
	for i, pt := range p.points {
		p.labels[i] = int(pt.Class)
	}
	if p.kind == PictureRegions {
		p.tiles = gridCentres(p.x0, p.x1, p.y0, p.y1, NeuronTileW, NeuronTileH)
		if f := c.Features; !f.IsZero() {
			p.samples, p.tiles = mapFeatures(f, p.samples), mapFeatures(f, p.tiles)
			p.inputs, p.testInputs = mapFeatures(f, p.inputs), mapFeatures(f, p.testInputs)
		}
	}
}

// rawPlane returns the raw points (x₁, x₂) of a trainer's data sets tr and te, which hold
// their features: the data of config c rebuilt without the features, row for row. It returns
// nil, nil when they cannot be rebuilt (a CSV file changed since) or do not match the
// trainer's data; the picture is then a projection of the feature vectors.
func rawPlane(c *train.Config, tr, te *nn.Dataset) (plane, planeTest *nn.Dataset) {
	raw, rawTest, err := train.PlaneData(c)
	if err != nil || raw.D != 2 || raw.N != tr.N || rawTest.N != te.N {
		return nil, nil
	}
	w := c.Features.Width()
	if tr.N > 0 {
		row := make([]float64, w)
		c.Features.Map(row, raw.X[:2])
		if !slices.Equal(row, tr.X[:w]) {
			return nil, nil
		}
	}
	return &raw, &rawTest
}

// mapFeatures returns (n, F) the feature vectors of the points xy (n, 2).
func mapFeatures(f train.FeatureSet, xy []float64) []float64 {
	dst := make([]float64, len(xy)/2*f.Width())
	f.Map(dst, xy)
	return dst
}

// prepareRegions takes the extent of 2-D data (the bounding box of training and test points,
// padded by a tenth of its size on every side), the grid's cell centres and the training
// points drawn.
func (p *Painter) prepareRegions(tr, te *nn.Dataset) {
	p.kind, p.xlabel, p.ylabel = PictureRegions, "x₁", "x₂"
	x0, x1 := math.Inf(1), math.Inf(-1)
	y0, y1 := math.Inf(1), math.Inf(-1)
	for _, d := range []*nn.Dataset{tr, te} {
		for i := 0; i < d.N; i++ {
			x, y := d.X[2*i], d.X[2*i+1]
			x0, x1 = math.Min(x0, x), math.Max(x1, x)
			y0, y1 = math.Min(y0, y), math.Max(y1, y)
		}
	}
	p.x0, p.x1 = pad(x0, x1)
	p.y0, p.y1 = pad(y0, y1)
	p.samples = gridCentres(p.x0, p.x1, p.y0, p.y1, PictureGridW, PictureGridH)
	idx := spread(tr.N, MaxPicturePoints)
	p.inputs = make([]float64, 2*len(idx))
	p.points = make([]PicturePoint, len(idx))
	for j, i := range idx {
		x, y := tr.X[2*i], tr.X[2*i+1]
		p.inputs[2*j], p.inputs[2*j+1] = x, y
		p.points[j] = PicturePoint{X: x, Y: y, Class: classByte(tr.Labels[i])}
	}
	idx = spread(te.N, MaxPicturePoints)
	p.testInputs = make([]float64, 2*len(idx))
	p.testPoints = make([]PicturePoint, len(idx))
	for j, i := range idx {
		x, y := te.X[2*i], te.X[2*i+1]
		p.testInputs[2*j], p.testInputs[2*j+1] = x, y
		p.testPoints[j] = PicturePoint{X: x, Y: y, Class: classByte(te.Labels[i])}
	}
}

// prepareProjection computes the top two principal components of the set's inputs and
// projects the points drawn on them.
func (p *Painter) prepareProjection(set *nn.Dataset) {
	p.kind = PictureProjection
	pcs := principalComponents(set)
	p.xlabel, p.ylabel = "PC1", ""
	for i, share := range pcs.share {
		l := varianceLabel(fmt.Sprintf("PC%d", i+1), share)
		if i == 0 {
			p.xlabel = l
		} else {
			p.ylabel = l
		}
	}
	idx := spread(set.N, MaxPicturePoints)
	D := set.D
	p.inputs = make([]float64, D*len(idx))
	p.points = make([]PicturePoint, len(idx))
	x0, x1 := math.Inf(1), math.Inf(-1)
	y0, y1 := math.Inf(1), math.Inf(-1)
	for j, i := range idx {
		row := set.X[i*D : (i+1)*D]
		copy(p.inputs[j*D:], row)
		pt := PicturePoint{Class: classByte(set.Labels[i])}
		pt.X, pt.Y = pcs.project(row)
		p.points[j] = pt
		x0, x1 = math.Min(x0, pt.X), math.Max(x1, pt.X)
		y0, y1 = math.Min(y0, pt.Y), math.Max(y1, pt.Y)
	}
	p.x0, p.x1 = pad(x0, x1)
	p.y0, p.y1 = pad(y0, y1)
}

// gridCentres returns (w·h, 2) the centres of the w×h cells of [x0, x1]×[y0, y1], row-major,
// row 0 at the top (y1).
func gridCentres(x0, x1, y0, y1 float64, w, h int) []float64 {
	c := make([]float64, 2*w*h)
	for gy := 0; gy < h; gy++ {
		y := y1 - (float64(gy)+0.5)/float64(h)*(y1-y0)
		for gx := 0; gx < w; gx++ {
			i := gy*w + gx
			c[2*i] = x0 + (float64(gx)+0.5)/float64(w)*(x1-x0)
			c[2*i+1] = y
		}
	}
	return c
}

// pad widens [lo, hi] by a tenth of its length on each side (to [lo−1, hi+1] when it is a
// single value, to [−1, 1] when it is empty).
func pad(lo, hi float64) (float64, float64) {
	switch {
	case !(lo <= hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0):
		return -1, 1
	case lo == hi:
		return lo - 1, hi + 1
	}
	d := 0.1 * (hi - lo)
	return lo - d, hi + d
}

// spread returns up to k indices evenly spaced through [0, n), in order.
func spread(n, k int) []int {
	k = min(n, k)
	idx := make([]int, k)
	for j := range idx {
		idx[j] = j * n / k
	}
	return idx
}

// varianceLabel names an axis by its share of the variance: "PC1 (23% of variance)".
func varianceLabel(name string, share float64) string {
	return fmt.Sprintf("%s (%.0f%% of variance)", name, 100*share)
}

// pca holds the top principal components of a data set.
type pca struct {
	mean    []float64   // μ (D)
	vectors [][]float64 // u₁, u₂ (D each; only u₁ when D = 1), each with its largest entry positive
	values  []float64   // λ₁ ≥ λ₂, the variances along them
	share   []float64   // λᵢ / tr C, the shares of the total variance
}

// principalComponents returns the top two principal components of the set's inputs.
func principalComponents(d *nn.Dataset) pca {
	N, D := d.N, d.D
	pc := pca{mean: make([]float64, D)}
	if N == 0 {
		return pc
	}
	for i := 0; i < N; i++ {
		for j, v := range d.X[i*D : (i+1)*D] {
			pc.mean[j] += v
		}
	}
	for j := range pc.mean {
		pc.mean[j] /= float64(N)
	}
	// X̃ = X − 1μᵀ (N, D), and tr C = ‖X̃‖²_F / N.
	xc := make([]float64, N*D)
	total := 0.0
	for i := 0; i < N; i++ {
		for j, v := range d.X[i*D : (i+1)*D] {
			c := v - pc.mean[j]
			xc[i*D+j] = c
			total += c * c
		}
	}
	total /= float64(N)
	X := blas64.General{Rows: N, Cols: D, Stride: D, Data: xc}
	tmp := make([]float64, N)
	cov := linalg.Func{N: D, Mul: func(dst, v []float64) {
		// C v = X̃ᵀ (X̃ v) / N
		blas64.Gemv(blas.NoTrans, 1, X, blas64.Vector{N: D, Inc: 1, Data: v}, 0, blas64.Vector{N: N, Inc: 1, Data: tmp})
		blas64.Gemv(blas.Trans, 1/float64(N), X, blas64.Vector{N: N, Inc: 1, Data: tmp}, 0, blas64.Vector{N: D, Inc: 1, Data: dst})
	}}
	// Not converging to 1e-12 (a rounding floor) still leaves vectors far more accurate than
	// a picture needs: keep the best pairs found.
	res, _ := linalg.Lanczos(cov, linalg.EigOptions{K: min(2, D), Tol: 1e-12, Seed: 1})
	for i, u := range res.Vectors {
		if i >= 2 {
			break
		}
		u = append([]float64(nil), u...)
		big := 0
		for j, v := range u {
			if math.Abs(v) > math.Abs(u[big]) {
				big = j
			}
		}
		if u[big] < 0 {
			for j := range u {
				u[j] = -u[j]
			}
		}
		share := 0.0
		if total > 0 {
			share = math.Max(0, res.Values[i]) / total
		}
		pc.vectors = append(pc.vectors, u)
		pc.values = append(pc.values, res.Values[i])
		pc.share = append(pc.share, share)
	}
	return pc
}

// project returns the coordinates (x̃·u₁, x̃·u₂) of the input x; the second is 0 without u₂.
func (pc *pca) project(x []float64) (a, b float64) {
	var c [2]float64
	for k, u := range pc.vectors {
		s := 0.0
		for j, v := range x {
			s += (v - pc.mean[j]) * u[j]
		}
		c[k] = s
	}
	return c[0], c[1]
}
