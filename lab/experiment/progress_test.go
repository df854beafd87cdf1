package experiment

import (
	"bytes"
	"strings"
	"testing"

	"sharpflat/internal/safetext"
)

// Progress lines name arms; an id with terminal controls in it is shown escaped.
func TestProgressEscapesNames(t *testing.T) {
	for _, h := range safetext.Hostile() {
		var b bytes.Buffer
		p := newProgress(&b, "switch"+h)
		p.total = 2
		p.begin()
		p.armDone("g/"+h, 1, 0.5)
		p.tick()
		if safetext.Executable(b.String()) || !strings.Contains(b.String(), "runs") {
			t.Errorf("progress shows %q raw: %q", h, b.String())
		}
	}
}
