package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/zap"

	"github.com/klaxonhq/klaxon/chatops"
)

// maxSlackBody bounds a slash command's body: its text, form-encoded (up
// to three bytes per byte), and Slack's other fields.
const maxSlackBody = 4*chatops.MaxText + 4096

// SlackCommands serves POST /slack/commands, Slack's slash commands
// (/klaxon …): the request's signature, made with the app's signing
// secret, is its credential.
type SlackCommands struct {
	handler *chatops.Handler
	secret  []byte
	clock   func() time.Time
	log     *zap.Logger
}

// NewSlackCommands returns the endpoint carrying commands out through h,
// verifying them with secret (none refuses every request) at the time
// clock gives.
func NewSlackCommands(h *chatops.Handler, secret []byte, clock func() time.Time, log *zap.Logger) *SlackCommands {
	if log == nil {
		log = zap.NewNop()
	}
	return &SlackCommands{handler: h, secret: secret, clock: clock, log: log}
}

// Register adds the route to e, outside the bearer-token groups.
func (s *SlackCommands) Register(e gin.IRoutes) {
	e.POST("/slack/commands", s.serve)
}

// serve answers 401 to a bad signature, 4xx to a body that is not a
// slash command, and otherwise 200 with the answer for the sender only,
// as Slack expects even when the command fails.
func (s *SlackCommands) serve(c *gin.Context) {
	sig, ts := c.GetHeader(chatops.SignatureHeader), c.GetHeader(chatops.TimestampHeader)
	if sig == "" || ts == "" || len(s.secret) == 0 {
		s.refuse(c, chatops.Verify(s.secret, sig, ts, nil, s.clock())) // before reading a body that cannot be authentic
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxSlackBody))
	if err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		Fail(c, status, "body: "+err.Error())
		return
	}
	if err := chatops.Verify(s.secret, sig, ts, body, s.clock()); err != nil {
		s.refuse(c, err)
		return
	}
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "application/x-www-form-urlencoded" {
		Fail(c, http.StatusUnsupportedMediaType, "a slash command is application/x-www-form-urlencoded")
		return
	}
	req, err := chatops.ParseRequest(body)
	if err != nil {
		Fail(c, http.StatusBadRequest, err.Error())
		return
	}
	if req.SSLCheck {
		c.Status(http.StatusOK)
		return
	}
	c.JSON(http.StatusOK, s.handler.Run(c.Request.Context(), req))
}

func (s *SlackCommands) refuse(c *gin.Context, err error) {
	s.log.Info("refused a Slack slash command", zap.Error(err))
	Fail(c, http.StatusUnauthorized, err.Error())
}
