package journal

import (
	"fmt"
	"strings"

	"go.uber.org/zap"
)

// badgerLogger passes badger's warnings and errors to zap and drops its
// informational chatter.
type badgerLogger struct {
	log *zap.Logger
}

// Errorf logs a badger error.
func (l badgerLogger) Errorf(format string, args ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Warningf logs a badger warning.
func (l badgerLogger) Warningf(format string, args ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Infof drops badger's informational messages.
func (badgerLogger) Infof(string, ...any) {}

// Debugf drops badger's debug messages.
func (badgerLogger) Debugf(string, ...any) {}
