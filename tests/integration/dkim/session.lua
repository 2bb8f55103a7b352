-- session.lua: one SMTP transaction against milter-dkim, driven by miltertest.
-- Parameters (miltertest -D NAME=VALUE):
--   SOCK     the milter socket (unix:/path)
--   HOST, IP the client (conninfo; miltertest always sends port 12345)
--   AUTH     {auth_authen} sent with MAIL, or "" for an unauthenticated client
--   QID      the queue id macro "i", sent with RCPT as Postfix does
--   FROM     the From header value(s), "|"-separated (two From headers: "a@x|b@y");
--            "" = no From header
--   SHAPE    "plain" (default), "junk8bit" (a header with raw 8-bit/control bytes),
--            "many" (1000 extra headers), "dual" (expects 2 signatures)
--   EXPECT   "signed": one DKIM-Signature inserted at index 0 and ACCEPT;
--            "dual": two inserted; "unsigned": no header change, ACCEPT at EOM;
--            "mailaccept": SMFIR_ACCEPT already at MAIL (nothing more is sent)
-- The negotiation offers every protocol step except the ones Debian 12's miltertest cannot
-- skip when the filter accepts them (NORCPT, NOEOH): with them it exits silently with rc 1.
-- Offered: NOCONNECT NOHELO NOMAIL NOBODY NOHDRS NR_HDR NOUNKNOWN NR_CONN NR_BODY, so the
-- filter's no-reply stages (NR_CONN/NR_HDR/NR_BODY) are exercised.

local function need(v, what)
  if v ~= nil then error(what .. ": " .. tostring(v)) end
end

local shape = SHAPE or "plain"
local conn = mt.connect(SOCK, 40, 0.05)
if conn == nil then error("connect failed") end
need(mt.negotiate(conn, 6, 0x811B7, 0x1FF), "negotiate")
need(mt.conninfo(conn, HOST, IP), "conninfo")
if AUTH ~= nil and AUTH ~= "" then
  mt.macro(conn, SMFIC_MAIL, "{auth_authen}", AUTH)
end
need(mt.mailfrom(conn, "sender@example.test"), "mailfrom")
local r = mt.getreply(conn)
if EXPECT == "mailaccept" then
  if r ~= SMFIR_ACCEPT then error("expected ACCEPT at MAIL, got " .. tostring(r)) end
  mt.disconnect(conn)
  return
end
if r ~= SMFIR_CONTINUE then error("expected CONTINUE at MAIL, got " .. tostring(r)) end
mt.macro(conn, SMFIC_RCPT, "i", QID)
need(mt.rcptto(conn, "rcpt@example.net"), "rcptto")

if FROM ~= nil and FROM ~= "" then
  for f in string.gmatch(FROM, "[^|]+") do
    need(mt.header(conn, "From", f), "header From")
  end
end
need(mt.header(conn, "To", "rcpt@example.net"), "header To")
need(mt.header(conn, "Subject", "miltertest " .. QID), "header Subject")
need(mt.header(conn, "Date", "Mon, 24 Nov 2025 12:00:00 +0000"), "header Date")
need(mt.header(conn, "Message-ID", "<" .. QID .. "@example.test>"), "header Message-ID")
if shape == "junk8bit" then
  need(mt.header(conn, "X-Junk", "caf\233 \255\254 \1\2 tab\there \195\169"), "header junk")
  need(mt.header(conn, "X-\200\201", "8-bit name"), "header 8-bit name")
elseif shape == "many" then
  for i = 1, 1000 do
    need(mt.header(conn, "X-Filler-" .. i, "value " .. i), "header filler")
  end
end
need(mt.eoh(conn), "eoh")
need(mt.bodystring(conn, "Hello,\r\n\r\nthis is a test from miltertest.\r\n"), "body")
need(mt.eom(conn), "eom")
r = mt.getreply(conn)

if EXPECT == "signed" or EXPECT == "dual" then
  if not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") then
    error("no DKIM-Signature inserted")
  end
  if r ~= SMFIR_ACCEPT then error("expected ACCEPT at EOM, got " .. tostring(r)) end
elseif EXPECT == "unsigned" then
  if mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") or
     mt.eom_check(conn, MT_HDRADD, "DKIM-Signature") then
    error("unexpected DKIM-Signature")
  end
  if r ~= SMFIR_ACCEPT then error("expected ACCEPT at EOM, got " .. tostring(r)) end
else
  error("unknown EXPECT " .. tostring(EXPECT))
end
mt.disconnect(conn)
