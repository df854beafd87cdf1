package serve

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A join link's QR code: square (a version's 17+4v modules and the quiet zone, two modules
// a line), the finder pattern's rows in its corners.
func TestQRText(t *testing.T) {
	q, err := QRText("https://class.example.org:8443/#t=" + strings.Repeat("x", 22))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(q, "\n"), "\n")
	w := utf8.RuneCountInString(lines[0])
	if (w-8-17)%4 != 0 || w < 21+8 {
		t.Fatalf("%d modules wide: not a QR code's size with its quiet zone", w)
	}
	if len(lines) != (w+1)/2 {
		t.Errorf("%d lines for %d modules", len(lines), w)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n != w {
			t.Errorf("line %d: %d cells, want %d", i, n, w)
		}
	}
	// Rows 4 and 5 of the code (line 4, the quiet zone being 4 rows): the finder's top edge
	// (7 dark) then its ring; the top half of each cell is row 4, all dark: blank or ▄.
	top := []rune(lines[2])[4 : 4+7]
	for _, r := range top {
		if r != ' ' && r != '▄' {
			t.Errorf("the finder's top edge: %q", string(top))
			break
		}
	}
	t.Logf("\n%s", q)
}
