package tui

import (
	"fmt"
	"math"

	"sharpflat/lab"
)

// The neurons view (V): what each unit of the network computes (lab.Neurons). For 2-D data a
// small half-block picture per unit of its output over the input plane, layer by layer, the
// output's units last, each labelled with its layer, its index and the norm of its outgoing
// weights (which says how much the rest of the network listens to it). Colours diverge from
// the background: orange where the unit is positive, blue where negative, as strong as |a|
// against the largest |a| of its layer; without colour the glyphs ░▒▓█ (positive) and
// .:-= (negative) say the same. For other data, a table: each unit's mean activation over the
// examples of each class, in the same colours or glyphs. A layer wider than the screen is
// paged with ←/→, which slide α only while the view is closed: the title says so.

// neuronPos and neuronNeg are the hues of positive and negative activations.
var (
	neuronPos = rgb{0xff, 0x8c, 0x1a}
	neuronNeg = rgb{0x3d, 0x8b, 0xff}
)

// The NO_COLOR glyphs of an activation by its size against the layer's largest.
var (
	posGlyphs = []rune{' ', '░', '▒', '▓', '█'}
	negGlyphs = []rune{' ', '.', ':', '-', '='}
)

// neuronScale is the largest |a| of a layer (1 when it is 0 or unknown).
func neuronScale(l lab.NeuronLayer) float64 {
	s := math.Max(math.Abs(l.Lo), math.Abs(l.Hi))
	if !(s > 0) || math.IsInf(s, 0) {
		return 1
	}
	return s
}

// neuronColor is the pixel of activation v on a layer of scale s.
func neuronColor(v, s float64, dark bool) rgb {
	if math.IsNaN(v) {
		return paper(dark)
	}
	if v < 0 {
		return mix(paper(dark), neuronNeg, -v/s)
	}
	return mix(paper(dark), neuronPos, v/s)
}

// neuronGlyph is the NO_COLOR cell of activation v on a layer of scale s.
func neuronGlyph(v, s float64) rune {
	if math.IsNaN(v) {
		return '?'
	}
	g := posGlyphs
	if v < 0 {
		g = negGlyphs
	}
	i := int(math.Abs(v) / s * float64(len(g)))
	return g[min(max(i, 0), len(g)-1)]
}

// unitLabel names unit j of layer l (1-based; the output layer "out") with its outgoing norm.
func unitLabel(ne *lab.Neurons, l, j int) string {
	layer := ne.Layers[l]
	if layer.Output {
		return fmt.Sprintf("out %d", j)
	}
	return fmt.Sprintf("L%d·%d ‖w‖%s", l+1, j, num(layer.Units[j].OutNorm, 2))
}

// neuronPages returns how many pages the widest layer needs at per units a page.
func neuronPages(ne *lab.Neurons, per int) int {
	pages := 1
	for _, l := range ne.Layers {
		pages = max(pages, (len(l.Units)+per-1)/max(per, 1))
	}
	return pages
}

// drawNeurons draws the neurons into a, page page of them (clamped), and returns the colour
// layers to go over the rendered grid (none without colour).
func drawNeurons(a area, ne *lab.Neurons, step, page int, look pictureLook) []*colorLayer {
	if ne == nil || len(ne.Layers) == 0 {
		legend(a, title("what each neuron computes", "neurons", keep))
		a.text(0, 1, "waiting for the first picture of the neurons…", inkLabel)
		return nil
	}
	if ne.Plane {
		return drawNeuronTiles(a, ne, step, page, look)
	}
	return drawNeuronTable(a, ne, step, page, look)
}

// neuronsLegend is the title line: what the view shows, its step and page, and how ←/→ act.
func neuronsLegend(what string, step, page, pages int, look pictureLook) []item {
	items := []item{title(what, "neurons", 4), note(fmt.Sprintf("step %d", step), fmt.Sprintf("@%d", step), inkLabel, 2)}
	if pages > 1 {
		keys, long := look.pager, "(not α) while V shows"
		if keys == "" || keys == "←/→" {
			keys = "←/→"
		} else {
			long = "(←/→ step the lesson)"
		}
		items = append(items, note(fmt.Sprintf("page %d/%d  %s pages %s", page+1, pages, keys, long), fmt.Sprintf("%d/%d %s", page+1, pages, keys), inkNote, 3))
	}
	if look.color {
		items = append(items, note("orange +, blue −, pale 0", "orange +  blue −", inkLabel, 1))
	} else {
		items = append(items, note("█▓▒░ +, =-:. −", "█+ =−", inkLabel, 1))
	}
	return items
}

// drawNeuronTiles draws a tile per unit: each layer a row of tiles (its units of this page),
// tiles th cells tall (2·th pixels) and as wide as keeps the plane's proportions, a label
// under each.
func drawNeuronTiles(a area, ne *lab.Neurons, step, page int, look pictureLook) []*colorLayer {
	L := len(ne.Layers)
	th := min(6, (a.h-1)/L-1)
	if th < 1 {
		legend(a, title("what each neuron computes", "neurons", keep))
		return nil
	}
	// 2·th pixels down at TH samples, so tw = 2·th·TW/TH pixels (cells) across; at least
	// as wide as a short label.
	tw := max(10, int(math.Round(2*float64(th)*float64(ne.TW)/float64(ne.TH))))
	per := max(1, (a.w+1)/(tw+1))
	pages := neuronPages(ne, per)
	page = min(max(page, 0), pages-1)
	legend(a, neuronsLegend("what each neuron computes", step, page, pages, look)...)
	var layers []*colorLayer
	for l, layer := range ne.Layers {
		s := neuronScale(layer)
		y := 1 + l*(th+1)
		for k := 0; k < per; k++ {
			j := page*per + k
			if j >= len(layer.Units) {
				break
			}
			x := k * (tw + 1)
			u := layer.Units[j]
			tile := a.sub(x, y, tw, th)
			var cl *colorLayer
			if look.color {
				cl = newColorLayer(tile, 0, 0, tile.w, tile.h)
				layers = append(layers, cl)
			}
			at := func(px, py int) float64 { // the sample under pixel (px, py) of 2·th down
				gx := min(ne.TW-1, px*ne.TW/tw)
				gy := min(ne.TH-1, py*ne.TH/(2*th))
				return float64(u.Values[gy*ne.TW+gx])
			}
			for cy := 0; cy < tile.h; cy++ {
				for cx := 0; cx < tile.w; cx++ {
					if cl != nil {
						c := cl.at(cx, cy)
						c.r, c.fg, c.bg = '▀', neuronColor(at(cx, 2*cy), s, look.pal.dark), neuronColor(at(cx, 2*cy+1), s, look.pal.dark)
						continue
					}
					// One glyph for two pixels: their mean.
					tile.set(cx, cy, neuronGlyph((at(cx, 2*cy)+at(cx, 2*cy+1))/2, s), inkLabel)
				}
			}
			name := unitLabel(ne, l, j)
			if len([]rune(name)) > tw {
				name = truncate(name, tw)
			}
			a.text(x, y+th, name, inkLabel)
		}
	}
	return layers
}

// drawNeuronTable draws a line per unit: its label, then its mean activation over each
// class as a block of two cells (coloured, or a glyph), the classes' numbers over them.
func drawNeuronTable(a area, ne *lab.Neurons, step, page int, look pictureLook) []*colorLayer {
	const labelW = 16
	rows := a.h - 2 // the title line and the classes' line
	if rows < 1 {
		legend(a, title("what each neuron computes", "neurons", keep))
		return nil
	}
	var all [][2]int // (layer, unit) of every line, in order
	for l, layer := range ne.Layers {
		for j := range layer.Units {
			all = append(all, [2]int{l, j})
		}
	}
	cols := max(1, (a.w+2)/(labelW+2*ne.Classes+2))
	per := rows * cols
	pages := max(1, (len(all)+per-1)/per)
	page = min(max(page, 0), pages-1)
	legend(a, neuronsLegend("mean activation per class", step, page, pages, look)...)
	var layers []*colorLayer
	for col := 0; col < cols; col++ {
		x0 := col * (labelW + 2*ne.Classes + 2)
		for c := 0; c < ne.Classes; c++ {
			a.text(x0+labelW+2*c, 1, fmt.Sprint(c%10), inkLabel)
		}
		for r := 0; r < rows; r++ {
			i := page*per + col*rows + r
			if i >= len(all) {
				break
			}
			l, j := all[i][0], all[i][1]
			layer := ne.Layers[l]
			s := neuronScale(layer)
			y := 2 + r
			a.text(x0, y, truncate(unitLabel(ne, l, j), labelW-1), inkLabel)
			var cl *colorLayer
			if look.color {
				cl = newColorLayer(a, x0+labelW, y, 2*ne.Classes, 1)
				layers = append(layers, cl)
			}
			for c, v := range layer.Units[j].Values {
				if cl != nil {
					pix := neuronColor(float64(v), s, look.pal.dark)
					for k := 0; k < 2; k++ {
						if cell := cl.at(2*c+k, 0); cell != nil {
							*cell = colorCell{r: ' ', fg: pix, bg: pix}
						}
					}
					continue
				}
				g := neuronGlyph(float64(v), s)
				a.set(x0+labelW+2*c, y, g, inkLabel)
				a.set(x0+labelW+2*c+1, y, g, inkLabel)
			}
		}
	}
	return layers
}
