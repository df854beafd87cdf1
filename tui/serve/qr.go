package serve

import (
	"fmt"
	"strings"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// QRText draws text (a join link) as a QR code for a terminal, two modules a character
// cell (█ ▀ ▄ and space), with the four-module quiet zone the standard asks for, so that a
// phone can read it off a projector. Light modules are drawn and dark ones left blank: on a
// dark terminal (a projector's usual) it reads dark on light, as printed codes do; on a
// light one it is inverted, which current phone scanners read too.
func QRText(text string) (string, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionLow))
	if err != nil {
		return "", fmt.Errorf("QR code: %w", err)
	}
	var bits [][]bool
	if err := q.Save(bitmapWriter{&bits}); err != nil {
		return "", fmt.Errorf("QR code: %w", err)
	}
	const quiet = 4
	n := len(bits)
	dark := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		return x >= 0 && y >= 0 && x < n && y < n && bits[y][x]
	}
	var b strings.Builder
	size := n + 2*quiet
	for y := 0; y < size; y += 2 {
		for x := range size {
			top, bottom := !dark(x, y), y+1 < size && !dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// bitmapWriter keeps the code's modules (go-qrcode's Writer).
type bitmapWriter struct{ bits *[][]bool }

func (w bitmapWriter) Write(m qrcode.Matrix) error { *w.bits = m.Bitmap(); return nil }
func (w bitmapWriter) Close() error                { return nil }
