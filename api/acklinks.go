package api

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/klaxonhq/klaxon/acklink"
	"github.com/klaxonhq/klaxon/triage"
)

// AckLinks serves the acknowledgement link every page carries: GET shows
// what the link acknowledges and a button; POST acknowledges. The signed
// token is the credential: it names one incident and one person and
// expires. A GET never acts, so link scanners in mail and chat cannot
// acknowledge anything.
type AckLinks struct {
	signer *acklink.Signer
	actor  Actor
	clock  func() time.Time
}

// NewAckLinks returns the handlers; clock tells expiry (time.Now if nil).
func NewAckLinks(signer *acklink.Signer, actor Actor, clock func() time.Time) *AckLinks {
	if clock == nil {
		clock = time.Now
	}
	return &AckLinks{signer: signer, actor: actor, clock: clock}
}

// Register adds the routes to r; they take no other credentials.
func (h *AckLinks) Register(r gin.IRoutes) {
	r.GET("/ack/:token", h.show)
	r.POST("/ack/:token", h.ack)
}

var ackPage = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body><main>
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
{{if .Button}}<form method="post"><button type="submit">Acknowledge {{.Incident}}</button></form>{{end}}
</main></body></html>
`))

type ackView struct {
	Title, Text, Incident string
	Button                bool
}

func (h *AckLinks) show(c *gin.Context) {
	claim, ok := h.verify(c)
	if !ok {
		return
	}
	h.render(c, http.StatusOK, ackView{Title: "Acknowledge " + claim.Incident,
		Text:     fmt.Sprintf("This link acknowledges %s as %s. It works until %s.", claim.Incident, who(claim), claim.Expires.UTC().Format(time.RFC1123)),
		Incident: claim.Incident, Button: true})
}

func (h *AckLinks) ack(c *gin.Context) {
	claim, ok := h.verify(c)
	if !ok {
		return
	}
	err := h.actor.Act(c.Request.Context(), triage.Action{Kind: triage.ActionAck, Incident: claim.Incident, By: who(claim), Note: "through the link in a page"})
	switch {
	case err == nil:
		h.render(c, http.StatusOK, ackView{Title: claim.Incident + " acknowledged", Text: fmt.Sprintf("%s is acknowledged by %s: escalation has stopped.", claim.Incident, who(claim))})
	case errors.Is(err, triage.ErrConflict):
		h.render(c, http.StatusConflict, ackView{Title: claim.Incident + " is resolved", Text: err.Error()})
	case errors.Is(err, triage.ErrNotFound):
		h.render(c, http.StatusNotFound, ackView{Title: "No such incident", Text: err.Error()})
	default:
		c.Header("Retry-After", "1")
		h.render(c, http.StatusServiceUnavailable, ackView{Title: "Try again", Text: "Klaxon could not store the acknowledgement just now; try again in a moment."})
	}
}

// verify checks the token, answering 403 when it is not good.
func (h *AckLinks) verify(c *gin.Context) (acklink.Claim, bool) {
	claim, err := h.signer.Verify(c.Param("token"), h.clock())
	if err != nil {
		text := "This acknowledgement link is not valid."
		if errors.Is(err, acklink.ErrExpired) {
			text = "This acknowledgement link has expired; acknowledge through the API or the console."
		}
		h.render(c, http.StatusForbidden, ackView{Title: "Link not valid", Text: text})
		return acklink.Claim{}, false
	}
	return claim, true
}

func (h *AckLinks) render(c *gin.Context, status int, v ackView) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := ackPage.Execute(c.Writer, v); err != nil {
		_ = c.Error(err)
	}
	c.Abort()
}

// who names whoever the link was made for; a fallback receiver's page
// names nobody.
func who(claim acklink.Claim) string {
	if claim.Person == "" {
		return "the fallback receiver's link"
	}
	return claim.Person
}
