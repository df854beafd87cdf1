package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// v: the picture of what the network learned takes the place of the spectrum panels (the
// spectrum and the G/F split in the wide arrangement, the spectrum in the narrow one).

// pictureWords says what the picture shows for the data in use.
func (m Model) pictureWords() string {
	switch m.snap.Config.Data {
	case "teacher":
		return "picture on: this data set is a regression, with no classes to draw (v hides it)"
	case "moons", "circles", "xor", "spirals":
		return "picture on: the training points over the regions where the network predicts each class (v hides it)"
	}
	return "picture on: the test points on their top two principal components, coloured by the class the network predicts (v hides it)"
}

// picturePanel draws the picture into a and returns its colour layer (nil without colour).
func (m Model) picturePanel(a area) *colorLayer {
	pal := sessionPalette(m.c.Styles)
	look := pictureLook{test: m.pictureTest(), color: pal.profile != termenv.Ascii, pal: pal}
	return drawPicture(a, m.snap.Picture, m.regression(), look)
}

// pictureTest reports whether the picture shows the test points (x). The toggle's state
// belongs in Model (a pictureState field) and its key in Update (pictureState.key), which
// are not this file's: until they are wired the test points stay hidden.
func (m Model) pictureTest() bool { return false }

// pictureState is what the picture's own keys change.
type pictureState struct {
	test bool // x: the test points over the training points
}

// key handles x (TestPoints, enabled while the picture shows; the lab's t is the refresh
// period): it switches the test points and returns the status to show, or reports false for
// any other key.
func (s *pictureState) key(k tea.KeyMsg, km *KeyMap) (string, bool) {
	if !key.Matches(k, km.TestPoints) {
		return "", false
	}
	s.test = !s.test
	if s.test {
		return "test points on: hollow glyphs ○ △ over the training points, the title counts them (x hides them)", true
	}
	return "test points off", true
}

// regression reports whether the data has no classes (the teacher preset's data, for which
// the engine paints no picture).
func (m Model) regression() bool {
	return m.have && m.snap.Picture == nil && m.snap.Config.Data == "teacher"
}
