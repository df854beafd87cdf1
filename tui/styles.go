package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// ink names a colour role of a chart cell; Styles.Ink maps it to a lipgloss style. Cells of
// one ink next to each other are rendered with one lipgloss call.
type ink uint8

const (
	inkNone    ink = iota // the terminal's default
	inkAxis               // axes and tick marks
	inkLabel              // tick labels, captions
	inkTrain              // full-train loss
	inkTest               // test loss
	inkBatch              // minibatch loss
	inkSharp              // sharpness λ₁, spectrum bars
	inkBulk               // λ_{k+1}, the top of the bulk
	inkEdge               // the stability line 2/η
	inkChiG               // χ of the minibatch gradient
	inkChiF               // χ of the full gradient
	inkRandom             // the random-direction baseline √(k/P)
	inkG                  // GGN part of a dominant eigenvalue
	inkF                  // functional part
	inkTitle              // panel titles
	inkWarn               // warnings inside panels, divergence and error events
	inkOK                 // checkpoint events
	inkNote               // rollback events
	inkStale              // a value of an old basis (drawn dotted as well)
	inkCaption            // the captions under the panels (i)
	inkClass              // the first of classInks point inks, one a class: inkClass + c
)

// classInks is the number of class colours of the picture panel; classes beyond it reuse them.
const classInks = 10

const (
	inkRegion = inkClass + classInks  // the first of classInks region inks: inkRegion + c
	inkArm    = inkRegion + classInks // the first of maxArms inks of a race's arms: inkArm + slot
	numInks   = inkArm + maxArms      // the number of inks
)

// Styles are the lipgloss styles of one session, made from its renderer. Colours are
// adaptive (light and dark backgrounds); with an ASCII colour profile (NO_COLOR, a dumb
// terminal) every style renders plain text, so nothing the lab says is carried by colour
// alone: states are words, series differ by glyph or line pattern, and legends name them.
type Styles struct {
	Header    lipgloss.Style // the header bar
	Brand     lipgloss.Style // "sharpflat" in the header
	HeaderDim lipgloss.Style // secondary header text
	Running   lipgloss.Style
	Paused    lipgloss.Style
	Diverged  lipgloss.Style
	Stopped   lipgloss.Style
	Banner    lipgloss.Style // the divergence banner
	Label     lipgloss.Style // names of values ("η", "k")
	Value     lipgloss.Style // values
	Dim       lipgloss.Style
	Knob      lipgloss.Style // the slider's knob
	Track     lipgloss.Style // the slider's track
	TrackMark lipgloss.Style // the SGD mark at the slider's centre
	Title     lipgloss.Style // panel titles
	Status    lipgloss.Style // transient status messages
	StatusErr lipgloss.Style
	Ink       [numInks]lipgloss.Style // chart cells
	Help      help.Styles
}

// NewStyles makes the styles of a session from its renderer.
func NewStyles(r *lipgloss.Renderer) *Styles {
	c := func(light, dark string) lipgloss.AdaptiveColor {
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	var (
		accent  = c("#5A3FC0", "#9D86FF")
		text    = c("#1A1A1A", "#E4E4E4")
		dim     = c("#707070", "#8A8A8A")
		faint   = c("#A8A8A8", "#5C5C5C")
		green   = c("#007A3D", "#5FD787")
		yellow  = c("#8A6A00", "#FFD75F")
		red     = c("#C00000", "#FF5F5F")
		blue    = c("#0057B8", "#5FAFFF")
		orange  = c("#B35900", "#FFAF5F")
		magenta = c("#A0006E", "#FF79C6")
		teal    = c("#00796B", "#5FD7C7")
	)
	ns := r.NewStyle
	s := &Styles{
		Header:    ns().Foreground(text),
		Brand:     ns().Bold(true).Foreground(accent),
		HeaderDim: ns().Foreground(dim),
		Running:   ns().Bold(true).Foreground(green),
		Paused:    ns().Bold(true).Foreground(yellow),
		Diverged:  ns().Bold(true).Reverse(true).Foreground(red),
		Stopped:   ns().Bold(true).Foreground(dim),
		Banner:    ns().Bold(true).Foreground(red),
		Label:     ns().Foreground(dim),
		Value:     ns().Foreground(text),
		Dim:       ns().Foreground(dim),
		Knob:      ns().Bold(true).Foreground(accent),
		Track:     ns().Foreground(faint),
		TrackMark: ns().Foreground(dim),
		Title:     ns().Bold(true).Foreground(text),
		Status:    ns().Foreground(accent),
		StatusErr: ns().Bold(true).Foreground(red),
	}
	s.Ink = [numInks]lipgloss.Style{
		inkNone:    ns(),
		inkAxis:    ns().Foreground(faint),
		inkLabel:   ns().Foreground(dim),
		inkTrain:   ns().Foreground(blue),
		inkTest:    ns().Foreground(orange),
		inkBatch:   ns().Foreground(faint),
		inkSharp:   ns().Foreground(magenta),
		inkBulk:    ns().Foreground(teal),
		inkEdge:    ns().Foreground(red),
		inkChiG:    ns().Foreground(teal),
		inkChiF:    ns().Foreground(yellow),
		inkRandom:  ns().Foreground(dim),
		inkG:       ns().Foreground(blue),
		inkF:       ns().Foreground(orange),
		inkTitle:   ns().Bold(true).Foreground(text),
		inkWarn:    ns().Bold(true).Foreground(red),
		inkOK:      ns().Foreground(green),
		inkNote:    ns().Bold(true).Foreground(yellow),
		inkStale:   ns().Foreground(faint),
		inkCaption: ns().Italic(true).Foreground(accent),
	}
	// The picture panel's classes: a point in its class colour, bold; a region in the same
	// colour, faint. Regions and points differ by glyph too, so colour is never the only cue.
	// The first six fall on six different colours of a 16-colour terminal (light and dark);
	// the next one on a seventh; the rest repeat some there.
	classes := [classInks]lipgloss.AdaptiveColor{
		blue, orange, green, magenta,
		c("#00838F", "#5FD7C7"), // teal (inkBulk's light teal falls on ANSI green)
		yellow,
		c("#505050", "#D7D7D7"), // grey
		red, accent,
		c("#6B4E16", "#D7AF87"), // brown
	}
	for i, col := range classes {
		s.Ink[inkClass+ink(i)] = ns().Bold(true).Foreground(col)
		s.Ink[inkRegion+ink(i)] = ns().Faint(true).Foreground(col)
	}
	// A race's arms, by slot (raceLooks): SGD blue, Dom-SGD orange, Bulk-SGD green, as the
	// glyphs ◇ △ □ of the compared runs of an experiment switch; then three more. Each arm
	// has a glyph of its own too, so NO_COLOR keeps them apart.
	for i, col := range [maxArms]lipgloss.AdaptiveColor{blue, orange, green, magenta, yellow, teal} {
		s.Ink[inkArm+ink(i)] = ns().Bold(true).Foreground(col)
	}
	s.Help = help.Styles{
		ShortKey:       ns().Foreground(accent),
		ShortDesc:      ns().Foreground(dim),
		ShortSeparator: ns().Foreground(faint),
		Ellipsis:       ns().Foreground(faint),
		FullKey:        ns().Foreground(accent),
		FullDesc:       ns().Foreground(dim),
		FullSeparator:  ns().Foreground(faint),
	}
	return s
}
