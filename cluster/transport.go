package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// streamLayer is raft's network between nodes: TCP, with mutual TLS when a
// TLS configuration is given.
type streamLayer struct {
	net.Listener
	advertise net.Addr
	tls       *tls.Config // nil: plain TCP
}

// listen binds the raft address.
func listen(address string, tlsConfig *tls.Config) (*streamLayer, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("listen on raft address %s: %w", address, err)
	}
	adv, err := net.ResolveTCPAddr("tcp", address)
	if err == nil && adv.IP.IsUnspecified() {
		err = fmt.Errorf("raft address %s must name the host others reach this node at, not an unspecified address", address)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", err, ln.Close())
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return &streamLayer{Listener: ln, advertise: adv, tls: tlsConfig}, nil
}

// Addr is the address other nodes reach this one at.
func (s *streamLayer) Addr() net.Addr { return s.advertise }

// Dial connects to another node.
func (s *streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if s.tls == nil {
		return d.Dial("tcp", string(address))
	}
	return tls.DialWithDialer(d, "tcp", string(address), s.tls)
}

// hclogger returns an hclog.Logger writing raft's warnings and errors, one
// zap entry per line, to log.
func hclogger(name string, log *zap.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   name,
		Level:  hclog.Warn,
		Output: zapWriter{log: log},
	})
}

// zapWriter logs each line written to it as a zap warning (hclog writes
// one line per call).
type zapWriter struct{ log *zap.Logger }

// Write logs p, without its trailing newline.
func (w zapWriter) Write(p []byte) (int, error) {
	w.log.Warn(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
