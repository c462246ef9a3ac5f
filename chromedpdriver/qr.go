package chromedpdriver

import (
	"errors"
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QRPNGSize is the width and height in pixels of the images of QRPNG.
const QRPNGSize = 256

// QRPNG renders a QR payload (the QR field of a wasend.EventQR event) as a
// PNG image of QRPNGSize pixels, for a web page or a file.
func QRPNG(payload string) ([]byte, error) {
	if payload == "" {
		return nil, errors.New("chromedpdriver: empty QR payload")
	}
	b, err := qrcode.Encode(payload, qrcode.Medium, QRPNGSize)
	if err != nil {
		return nil, fmt.Errorf("chromedpdriver: QR code: %w", err)
	}
	return b, nil
}

// QRTerminal renders a QR payload as text art for a terminal: two rows of
// modules per line with half blocks, dark modules on a light background.
// It returns "" for a payload that does not fit in a QR code.
func QRTerminal(payload string) string {
	if payload == "" {
		return ""
	}
	q, err := qrcode.New(payload, qrcode.Low)
	if err != nil {
		return ""
	}
	return q.ToSmallString(false)
}
