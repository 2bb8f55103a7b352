-- av/msg.lua: one message through milter-av the way Postfix 3.7 hands it over:
-- headers as name and value with the space after the colon dropped (doc/protocols.md,
-- "Header fields as Postfix passes them"), CRLF body in 65535-byte chunks, queue id "i" set with RCPT.
-- Globals (miltertest -D): SOCK (milter socket), MSG (message file, LF or CRLF),
-- EXPECT = accept | reject | tempfail | discard | quarantine | skip (SMFIR_ACCEPT at MAIL),
-- AUTH (optional: the {auth_authen} macro at MAIL), FROM (optional: the MAIL FROM
-- argument, default <sender@example.org>),
-- HDR / HDRVAL (optional: a header milter-av must add, and its exact value),
-- NOHDR (optional: a header it must not add), PAUSE (optional: seconds to wait
-- before end of message, to keep a message in flight). The SMTP reply text is checked by the
-- calling script on the wire (socat -v): Debian 12's miltertest exits silently on
-- mt.eom_check(conn, MT_SMTPREPLY, ...).
-- Any mismatch raises an error: miltertest exits non-zero with the reason.

-- miltertest does not print a script's error: say it first
local function fail(msg)
	mt.echo("msg.lua: " .. msg)
	error(msg)
end

local function opt(name)
	local v = _G[name]
	if v == nil or v == "" then return nil end
	return v
end

local f = io.open(MSG, "rb")
if f == nil then fail("cannot open " .. MSG) end
local raw = f:read("*a")
f:close()
raw = raw:gsub("\r\n", "\n")
local split = raw:find("\n\n", 1, true)
if split == nil then fail("no end of headers in " .. MSG) end
local head, body = raw:sub(1, split), raw:sub(split + 2)
body = body:gsub("\n", "\r\n")

-- unfold nothing: the test messages have one line per header
local headers = {}
for line in head:gmatch("([^\n]+)\n") do
	local c = line:find(":", 1, true)
	if c == nil then fail("bad header line: " .. line) end
	local value = line:sub(c + 1):gsub("^[ \t]+", "")
	headers[#headers + 1] = {line:sub(1, c - 1), value}
end

mt.set_timeout(30)
local conn = mt.connect(SOCK, 40, 0.05)
if conn == nil then fail("connect failed: " .. SOCK) end
-- Offer what Postfix 3.7 offers: every protocol step and every action. Debian 12's
-- miltertest takes mt.negotiate(conn, version, STEPS, ACTIONS), the reverse of its man
-- page (checked with strace: (6, 0x1FF, 0) offers no actions, so libmilter falls back to
-- the v1 actions and smfi_quarantine fails). It exits silently when a script performs a
-- stage the filter negotiated away: stages milter-av drops (NORCPT) are skipped below.
local err = mt.negotiate(conn, 6, 0x1FFFFF, 0x1FF)
if err ~= nil then fail("negotiate: " .. err) end
if mt.conninfo(conn, "client.example.org", "127.0.0.1") ~= nil then fail("conninfo") end
if opt("AUTH") then
	mt.macro(conn, SMFIC_MAIL, "i", "MTQ1D", "{auth_authen}", AUTH)
else
	mt.macro(conn, SMFIC_MAIL, "i", "MTQ1D")
end
if mt.mailfrom(conn, opt("FROM") or "<sender@example.org>") ~= nil then fail("mailfrom") end
if EXPECT == "skip" then
	-- skip_networks / skip_authenticated: SMFIS_ACCEPT at MAIL, nothing more is sent
	if mt.getreply(conn) ~= SMFIR_ACCEPT then fail("MAIL not accepted (expected a skip)") end
	mt.disconnect(conn)
	return
end
if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("MAIL not continued") end
if not mt.test_option(conn, SMFIP_NORCPT) then
	mt.macro(conn, SMFIC_RCPT, "i", "MTQ1D")
	if mt.rcptto(conn, "<rcpt@example.test>") ~= nil then fail("rcptto") end
end
for _, h in ipairs(headers) do
	if mt.header(conn, h[1], h[2]) ~= nil then fail("header " .. h[1]) end
end
if mt.eoh(conn) ~= nil then fail("eoh") end
local pos = 1
while pos <= #body do
	if mt.bodystring(conn, body:sub(pos, pos + 65534)) ~= nil then fail("body") end
	pos = pos + 65535
end
if opt("PAUSE") then
	mt.echo("msg.lua: pausing " .. PAUSE .. " s before end of message")
	mt.sleep(tonumber(PAUSE))
end
if mt.eom(conn) ~= nil then fail("eom") end

local want = {accept = SMFIR_ACCEPT, reject = SMFIR_REPLYCODE, tempfail = SMFIR_REPLYCODE,
	discard = SMFIR_DISCARD, quarantine = SMFIR_ACCEPT}
if want[EXPECT] == nil then fail("bad EXPECT " .. tostring(EXPECT)) end
local got = mt.getreply(conn)
if got ~= want[EXPECT] then
	fail(string.format("%s: reply %q, want %q", EXPECT, got, want[EXPECT]))
end
if EXPECT == "quarantine" and not mt.eom_check(conn, MT_QUARANTINE) then
	fail("no quarantine request")
end
if opt("HDR") then
	if opt("HDRVAL") then
		if not mt.eom_check(conn, MT_HDRADD, HDR, HDRVAL) then
			fail(string.format("header %s not added as %q (got %q)", HDR, HDRVAL,
				tostring(mt.getheader(conn, HDR, 0))))
		end
	elseif not mt.eom_check(conn, MT_HDRADD, HDR) then
		fail("header " .. HDR .. " not added")
	end
end
if opt("NOHDR") and mt.eom_check(conn, MT_HDRADD, NOHDR) then
	fail("header " .. NOHDR .. " added")
end
mt.disconnect(conn)
