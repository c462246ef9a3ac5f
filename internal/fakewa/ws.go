package fakewa

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The page talks to the fake "WhatsApp servers" over a WebSocket, as the real
// page does. A WebSocket does not count against the browser's limit of six
// HTTP connections per origin, so many tabs of one browser can stay connected.
// This file holds a minimal RFC 6455 server: text frames out, any frames in.

const (
	wsGUID       = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
	wsMaxPayload = 1 << 20

	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

var errWSProtocol = errors.New("fakewa: websocket protocol error")

// wsConn is a server side WebSocket connection. Writes are safe for
// concurrent use; reads must come from one goroutine.
type wsConn struct {
	conn net.Conn
	r    *bufio.Reader

	wmu sync.Mutex
	w   *bufio.Writer
}

// headerHasToken reports whether the comma separated header h holds token,
// compared without case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// wsAccept returns the Sec-WebSocket-Accept value for key.
func wsAccept(key string) string {
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// upgradeWS answers the opening handshake and takes over the connection. On
// failure it writes an HTTP error and returns it.
func upgradeWS(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	switch {
	case r.Method != http.MethodGet:
		http.Error(w, "websocket needs GET", http.StatusMethodNotAllowed)
		return nil, errWSProtocol
	case !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket"):
		http.Error(w, "websocket upgrade expected", http.StatusUpgradeRequired)
		return nil, errWSProtocol
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "websocket version 13 expected", http.StatusUpgradeRequired)
		return nil, errWSProtocol
	}
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		http.Error(w, "bad Sec-WebSocket-Key", http.StatusBadRequest)
		return nil, errWSProtocol
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot take over the connection", http.StatusInternalServerError)
		return nil, err
	}
	c := &wsConn{conn: conn, r: brw.Reader, w: brw.Writer}
	resp := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + wsAccept(key) + "\r\n\r\n"
	if _, err := c.w.WriteString(resp); err != nil {
		conn.Close()
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	// The handshake of the hijacked connection may have set deadlines.
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

// writeFrame writes one unfragmented, unmasked frame.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var hdr [10]byte
	hdr[0] = 0x80 | op
	n := len(payload)
	var hl int
	switch {
	case n < 126:
		hdr[1] = byte(n)
		hl = 2
	case n <= 0xFFFF:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(n))
		hl = 4
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(n))
		hl = 10
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.w.Write(hdr[:hl]); err != nil {
		return err
	}
	if _, err := c.w.Write(payload); err != nil {
		return err
	}
	return c.w.Flush()
}

// WriteText sends one text message.
func (c *wsConn) WriteText(p []byte) error { return c.writeFrame(opText, p) }

// readFrame reads one frame and unmasks its payload.
func (c *wsConn) readFrame() (fin bool, op byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err = io.ReadFull(c.r, hdr[:]); err != nil {
		return false, 0, nil, err
	}
	fin = hdr[0]&0x80 != 0
	if hdr[0]&0x70 != 0 {
		return false, 0, nil, fmt.Errorf("%w: reserved bits set", errWSProtocol)
	}
	op = hdr[0] & 0x0F
	masked := hdr[1]&0x80 != 0
	if !masked {
		return false, 0, nil, fmt.Errorf("%w: client frame not masked", errWSProtocol)
	}
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err = io.ReadFull(c.r, ext[:]); err != nil {
			return false, 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err = io.ReadFull(c.r, ext[:]); err != nil {
			return false, 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > wsMaxPayload {
		return false, 0, nil, fmt.Errorf("%w: frame of %d bytes", errWSProtocol, n)
	}
	var mask [4]byte
	if _, err = io.ReadFull(c.r, mask[:]); err != nil {
		return false, 0, nil, err
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(c.r, payload); err != nil {
		return false, 0, nil, err
	}
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	return fin, op, payload, nil
}

// ReadMessage returns the next text or binary message. It answers pings and
// returns io.EOF after a close frame, which it answers.
func (c *wsConn) ReadMessage() (op byte, msg []byte, err error) {
	var buf []byte
	var msgOp byte
	for {
		fin, fop, payload, err := c.readFrame()
		if err != nil {
			return 0, nil, err
		}
		switch fop {
		case opPing:
			if err := c.writeFrame(opPong, payload); err != nil {
				return 0, nil, err
			}
			continue
		case opPong:
			continue
		case opClose:
			code := payload
			if len(code) > 2 {
				code = code[:2]
			}
			_ = c.writeFrame(opClose, code)
			return 0, nil, io.EOF
		case opText, opBinary:
			if msgOp != 0 {
				return 0, nil, fmt.Errorf("%w: new message inside a fragmented one", errWSProtocol)
			}
			msgOp = fop
		case opContinuation:
			if msgOp == 0 {
				return 0, nil, fmt.Errorf("%w: continuation without a message", errWSProtocol)
			}
		default:
			return 0, nil, fmt.Errorf("%w: opcode %#x", errWSProtocol, fop)
		}
		if len(buf)+len(payload) > wsMaxPayload {
			return 0, nil, fmt.Errorf("%w: message too large", errWSProtocol)
		}
		buf = append(buf, payload...)
		if fin {
			return msgOp, buf, nil
		}
	}
}

// Ping sends a ping frame.
func (c *wsConn) Ping() error { return c.writeFrame(opPing, nil) }

// CloseWith sends a close frame with code and closes the connection.
func (c *wsConn) CloseWith(code uint16) error {
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], code)
	_ = c.writeFrame(opClose, p[:])
	return c.conn.Close()
}

// Close closes the connection without a close frame.
func (c *wsConn) Close() error { return c.conn.Close() }
