package h3

import (
	"github.com/skiffnet/skiff/h3/internal/frame"
	"github.com/skiffnet/skiff/internal/quichooks"
)

// Our QPACK decoder stream (RFC 9204 §4.2, §4.4) carries an instruction
// for nearly every request stream: a Section Acknowledgment or a Stream
// Cancellation, a few bytes each. A peer that never reads it (its flow
// control then stops taking them) must neither make us block with c.mu
// held, which would stall every request of the connection and pile up a
// goroutine per stream, nor make us keep them without limit. So the
// instructions are written without blocking: what the stream takes at once
// goes now, the rest waits in decBacklog for a goroutine that exists only
// while there is a backlog; past maxDecoderBacklog waiting bytes, some
// 16,000 requests' worth, the peer is not reading what it must, and the
// connection closes with H3_EXCESSIVE_LOAD (RFC 9114 §8.1).
const maxDecoderBacklog = 64 << 10

// writeDecoderStreamLocked sends b, instructions for the peer's encoder,
// on our decoder stream without blocking. c.mu is held.
func (c *conn) writeDecoderStreamLocked(b []byte) {
	if !c.decFlushing {
		n, _ := quichooks.WriteNoWait(c.decStream, b)
		if b = b[n:]; len(b) == 0 {
			return
		}
	}
	if len(c.decBacklog)+len(b) > maxDecoderBacklog {
		c.decBacklog = nil
		c.qc.CloseWithError(uint64(frame.ErrCodeExcessiveLoad), "the peer does not read the QPACK decoder stream")
		return
	}
	c.decBacklog = append(c.decBacklog, b...)
	if !c.decFlushing {
		c.decFlushing = true
		go c.flushDecoderBacklog()
	}
}

// flushDecoderBacklog writes the decoder stream's backlog, blocking as
// long as the peer takes its time, until there is none or the connection
// ends.
func (c *conn) flushDecoderBacklog() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.decBacklog) > 0 {
		b := c.decBacklog
		c.decBacklog = nil
		c.mu.Unlock()
		_, err := c.decStream.Write(b)
		c.mu.Lock()
		if err != nil {
			c.decBacklog = nil
			break
		}
	}
	c.decFlushing = false
}
