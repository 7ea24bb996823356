package store

import (
	"encoding/binary"
	"strings"
	"time"
)

// This file is the schema: every key prefix and every key builder lives here.
//
// Layout rules (see docs/STORAGE.md):
//   - A prefix is a short ASCII name ended by ':'; no prefix is a prefix of another.
//   - Records live under their prefix plus their id: "lead:" + id.
//   - Ids are fixed-length ULIDs and need no terminator; free-form strings
//     (emails, codes, order ids, visitor ids) are normalised and ended by 0x00.
//   - Times inside keys are 8 bytes big-endian Unix microseconds, so byte
//     order is time order; an index entry ends with time + id and has an
//     empty value (one key per entry, never a list-valued index).
//   - Unique keys ("u-…:") map a normalised value to the id that owns it.
const (
	// Meta and counters.
	pMeta    = "m:"   // m:<name> -> value (schema version, session secret, …)
	pCounter = "cnt:" // cnt:<name>\0 -> int64 big-endian

	// Records.
	pAdmin      = "adm:"  // adm:<id> -> Admin (JSON)
	pAPIKey     = "key:"  // key:<id> -> APIKey (JSON)
	pProgram    = "prg:"  // prg:<id> -> Program (JSON)
	pAffiliate  = "aff:"  // aff:<id> -> Affiliate (JSON)
	pEnrollment = "enr:"  // enr:<program id><affiliate id> -> Enrollment (JSON)
	pInvite     = "inv:"  // inv:<sha256 of token, hex>\0 -> Invite (JSON)
	pClick      = "clk:"  // clk:<id> -> Click (binary)
	pLead       = "lead:" // lead:<id> -> Lead (binary)
	pPurchase   = "pur:"  // pur:<id> -> Purchase (binary)
	pEndpoint   = "whe:"  // whe:<id> -> WebhookEndpoint (JSON)
	pMessage    = "whm:"  // whm:<id> -> WebhookMessage delivery state (binary, webhooks.go)
	pPayload    = "whp:"  // whp:<message id> -> the message's body, written once
	pExport     = "exp:"  // exp:<id> -> Export (JSON)
	pRollup     = "r:"    // r:<day uint32><program id><affiliate id> -> Rollup (binary)
	pCommission = "com:"  // com:<id> -> Commission (binary)
	pPayout     = "pay:"  // pay:<id> -> Payout (JSON)
	pPayoutItem = "poi:"  // poi:<payout id><affiliate id> -> PayoutItem (binary)

	// Payment providers (providers.go).
	pProviderEvent = "pev:" // pev:<id> -> ProviderEvent (JSON)
	pProviderLink  = "pxl:" // pxl:<provider>\0<kind>\0<provider's id>\0 -> purchase id, or ProviderAttribution (JSON)

	// Unique keys: value is the owner's id (or ids).
	uAdminEmail     = "u-adm-email:"  // <email>\0 -> admin id
	uAPIKeyHash     = "u-key-hash:"   // <sha256 hex>\0 -> api key id
	uAffiliateEmail = "u-aff-email:"  // <email>\0 -> affiliate id
	uCode           = "u-code:"       // <code lower>\0 -> program id + affiliate id
	uLeadEmail      = "u-lead-email:" // <program id><email>\0 -> lead id
	uOrder          = "u-order:"      // <program id><order id>\0 -> purchase id
	uCoupon         = "u-coupon:"     // <coupon lower>\0 -> program id + affiliate id
	uProviderEvent  = "u-pev:"        // <provider>\0<event id>\0 -> provider event id

	// Secondary indexes: empty values.
	iEnrollmentByAffiliate = "i-enr-aff:"  // <affiliate id><program id>
	iClickByVisitor        = "i-clk-vis:"  // <program id><vid>\0<time><click id>
	iLeadAll               = "i-lead-all:" // <time><lead id>
	iLeadByProgram         = "i-lead-prg:" // <program id><time><lead id>
	iLeadByAffiliate       = "i-lead-aff:" // <affiliate id><time><lead id>
	iLeadByAffProgram      = "i-lead-ap:"  // <affiliate id><program id><time><lead id>
	iLeadByEmail           = "i-lead-em:"  // <email>\0<time><lead id>
	iPurchaseAll           = "i-pur-all:"  // <purchased_at><purchase id>
	iPurchaseByProgram     = "i-pur-prg:"  // <program id><purchased_at><purchase id>
	iPurchaseByAffiliate   = "i-pur-aff:"  // <affiliate id><purchased_at><purchase id>
	iPurchaseByAffProgram  = "i-pur-ap:"   // <affiliate id><program id><purchased_at><purchase id>
	iPurchaseByEmail       = "i-pur-em:"   // <email>\0<purchased_at><purchase id>
	iPurchaseByStatus      = "i-pur-st:"   // <status byte><purchased_at><purchase id>
	iEndpointByAffiliate   = "i-whe-aff:"  // <affiliate id><endpoint id>
	iMessageDue            = "i-whm-due:"  // <next attempt time><message id><endpoint id> (pending only)
	iMessageByEndpoint     = "i-whm-ep:"   // <endpoint id><time><message id>
	iMessageAll            = "i-whm-all:"  // <time><message id>
	iMessageByEmail        = "i-whm-em:"   // <email>\0<time><message id> (the person in the payload, for erasure)
	iExportByOwner         = "i-exp-own:"  // <owner>\0<time><export id>
	iExportByExpiry        = "i-exp-ttl:"  // <expires_at><export id>

	// Commissions and payouts (commissions.go, payouts.go).
	iCommissionAll         = "i-com-all:" // <created_at><commission id>
	iCommissionByProgram   = "i-com-prg:" // <program id><created_at><commission id>
	iCommissionByAffiliate = "i-com-aff:" // <affiliate id><created_at><commission id>
	iCommissionByStatus    = "i-com-st:"  // <status>\0<created_at><commission id>
	iCommissionByPurchase  = "i-com-pur:" // <purchase id><commission id>
	iCommissionByPayout    = "i-com-pay:" // <payout id><affiliate id><commission id>
	iCommissionDue         = "i-com-due:" // <approve_at><commission id> (pending only)
	iCommissionApproved    = "i-com-ok:"  // <currency>\0<affiliate id><commission id> (approved only)
	iPayoutAll             = "i-pay-all:" // <created_at><payout id>
	iPayoutByAffiliate     = "i-pay-aff:" // <affiliate id><created_at><payout id>
	iPayoutStep            = "i-pay-run:" // <payout id> (payouts with a step to finish)
	tBalance               = "t-bal:"     // <program id|all><affiliate id><currency>\0 -> 4 x int64: pending, approved, processing, paid

	iProviderEventByProvider = "i-pev:" // <provider>\0<received_at><provider event id>

	tAffiliateName = "t-afn:" // <affiliate id> -> the affiliate's name (a derived copy)

	// The Affiliates pages at scale (affiliate_search.go).
	iAffiliateSearch  = "i-aff-q:"  // <search term>\0<affiliate id>: name words, name, email, referral codes
	iAffiliateStatus  = "i-aff-st:" // <status>\0<affiliate id>
	tAffiliateStatus  = "t-afs:"    // <status>\0 -> int64 big-endian: affiliates of that status
	tProgramEnrolled  = "t-enc:"    // <program id> -> int64 big-endian: affiliates enrolled
	tAffiliateResults = "t-aft:"    // <affiliate id><program id> -> Tally of all time

	// Mail outbox, opt-outs, sessions and account tokens (mail.go, sessions.go).
	// (Record prefixes must not start with u, i or t: Reindex drops those.)
	pMail            = "mail:"       // mail:<id> -> Mail (JSON)
	iMailDue         = "i-mail-due:" // <next attempt time><mail id> (queued only)
	iMailAll         = "i-mail-all:" // <created_at><mail id>
	pMailOptOut      = "mopt:"       // mopt:<affiliate id> -> MailOptOut (JSON)
	pSession         = "ses:"        // ses:<sha256 of the cookie's id, hex>\0 -> Session (JSON)
	iSessionAccount  = "i-ses-acc:"  // <kind>\0<account id><session hash>\0
	iSessionExpiry   = "i-ses-exp:"  // <expires_at><session hash>\0
	pAccountToken    = "atk:"        // atk:<sha256 of the token, hex>\0 -> AccountToken (JSON)
	iAccountTokenAcc = "i-tok-acc:"  // <kind>\0<account id><token hash>\0
	iAccountTokenExp = "i-tok-exp:"  // <expires_at><token hash>\0

	// Built-in HTTPS (acme.go): per ACME directory, the account key and the
	// certificates with their keys, as autocert names them
	// ("acme_account+key", "partners.shop.example", "partners.shop.example+rsa").
	pACME = "acme:" // acme:<directory URL>\0<autocert cache name>\0 -> PEM bytes
	// Tracking events SpiffyJS sent with a client event id (tracking.go):
	// the first answer, so a retry gets it again and doubles nothing. Not
	// derived from records (Reindex keeps them); each expires after
	// EventReplyTTL by Badger's entry TTL.
	pEventReply = "eid:" // eid:<kind>\0<event id>\0 -> EventReply (binary)
)

// allPrefixes lists every prefix above; keys_test.go checks that none is a
// prefix of another and derived.go uses the index ones for reindexing.
var allPrefixes = []string{
	pMeta, pCounter, pAdmin, pAPIKey, pProgram, pAffiliate, pEnrollment, pInvite,
	pClick, pLead, pPurchase, pEndpoint, pMessage, pExport, pRollup,
	uAdminEmail, uAPIKeyHash, uAffiliateEmail, uCode, uLeadEmail, uOrder,
	iEnrollmentByAffiliate, iClickByVisitor, iLeadAll, iLeadByProgram, iLeadByAffiliate,
	iLeadByAffProgram, iLeadByEmail, iPurchaseAll, iPurchaseByProgram, iPurchaseByAffiliate,
	iPurchaseByAffProgram, iPurchaseByEmail, iPurchaseByStatus, iEndpointByAffiliate, iMessageDue,
	iMessageByEndpoint, iMessageAll, iExportByOwner, iExportByExpiry,
	iMessageByEmail, pPayload,
	iLeadSearch, iLeadAffSearch, iPurchaseSearch, iPurchaseAffSearch,
	tAll, tProgram, tAffProgram, tBlock,
	pCommission, pPayout, pPayoutItem,
	iCommissionAll, iCommissionByProgram, iCommissionByAffiliate, iCommissionByStatus,
	iCommissionByPurchase, iCommissionByPayout, iCommissionDue, iCommissionApproved,
	iPayoutAll, iPayoutByAffiliate, iPayoutStep, tBalance,
	pProviderEvent, pProviderLink, uCoupon, uProviderEvent, iProviderEventByProvider, tAffiliateName,
	iAffiliateSearch, iAffiliateStatus, tAffiliateStatus, tProgramEnrolled, tAffiliateResults,
	pMail, iMailDue, iMailAll, pMailOptOut, pSession, iSessionAccount, iSessionExpiry,
	pAccountToken, iAccountTokenAcc, iAccountTokenExp, pACME, pEventReply,
}

// kb builds a key. Methods append one typed field each.
type kb []byte

// key starts a key with room for the longest common ones: an index entry
// with a program id, an email or a name, a time and a record id is about
// 90 bytes, and one that outgrew 64 was allocated twice.
func key(prefix string) kb { return append(make(kb, 0, 128), prefix...) }

// id appends a fixed-length record id (no terminator needed).
func (k kb) id(id string) kb { return append(k, id...) }

// str appends a free-form string and its 0x00 terminator. Callers normalise
// first (NormEmail, NormCode); NUL bytes are dropped so the terminator stays
// unambiguous.
func (k kb) str(s string) kb {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return append(append(k, s...), 0)
}

// time appends t as 8 bytes big-endian Unix microseconds. Times before 1970
// are clamped to zero so byte order stays time order.
func (k kb) time(t time.Time) kb { return binary.BigEndian.AppendUint64(k, timeKey(t)) }

func timeKey(t time.Time) uint64 {
	us := t.UnixMicro()
	if us < 0 {
		return 0
	}
	return uint64(us)
}

// day appends a day number (days since 1970-01-01 UTC) as 4 bytes big-endian.
func (k kb) day(d uint32) kb { return binary.BigEndian.AppendUint32(k, d) }

// DayNumber is the UTC day of t counted from 1970-01-01.
func DayNumber(t time.Time) uint32 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return uint32(s / 86400)
}

// DayTime is the start (00:00 UTC) of day number d.
func DayTime(d uint32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// NormEmail is the form emails are compared and indexed in: trimmed and lower-cased.
func NormEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormCode is the form referral codes are compared in: codes are case-insensitive.
func NormCode(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Key builders. Each returns a fresh slice.

func metaKey(name string) []byte           { return key(pMeta).str(name) }
func counterKey(name string) []byte        { return key(pCounter).str(name) }
func acmeKey(dir, name string) []byte      { return key(pACME).str(dir).str(name) }
func adminKey(id string) []byte            { return key(pAdmin).id(id) }
func apiKeyKey(id string) []byte           { return key(pAPIKey).id(id) }
func programKey(id string) []byte          { return key(pProgram).id(id) }
func affiliateKey(id string) []byte        { return key(pAffiliate).id(id) }
func enrollmentKey(prg, aff string) []byte { return key(pEnrollment).id(prg).id(aff) }
func inviteKey(tokenHash string) []byte    { return key(pInvite).str(tokenHash) }
func clickKey(id string) []byte            { return key(pClick).id(id) }
func leadKey(id string) []byte             { return key(pLead).id(id) }
func purchaseKey(id string) []byte         { return key(pPurchase).id(id) }
func endpointKey(id string) []byte         { return key(pEndpoint).id(id) }
func messageKey(id string) []byte          { return key(pMessage).id(id) }
func exportKey(id string) []byte           { return key(pExport).id(id) }
func commissionKey(id string) []byte       { return key(pCommission).id(id) }
func payoutKey(id string) []byte           { return key(pPayout).id(id) }
func rollupKey(day uint32, prg, aff string) []byte {
	return key(pRollup).day(day).id(prg).id(aff)
}

func adminEmailKey(email string) []byte     { return key(uAdminEmail).str(NormEmail(email)) }
func apiKeyHashKey(hash string) []byte      { return key(uAPIKeyHash).str(hash) }
func affiliateEmailKey(email string) []byte { return key(uAffiliateEmail).str(NormEmail(email)) }
func codeKey(code string) []byte            { return key(uCode).str(NormCode(code)) }
func couponKey(coupon string) []byte        { return key(uCoupon).str(NormCode(coupon)) }
func leadEmailKey(prg, email string) []byte { return key(uLeadEmail).id(prg).str(NormEmail(email)) }
func orderKey(prg, orderID string) []byte   { return key(uOrder).id(prg).str(orderID) }

// Webhook outbox keys (store/webhooks.go).

func endpointByAffiliateKey(aff, ep string) []byte { return key(iEndpointByAffiliate).id(aff).id(ep) }
func messageDueKey(next time.Time, msg, ep string) []byte {
	return key(iMessageDue).time(next).id(msg).id(ep)
}
func messageByEndpointKey(ep string, t time.Time, msg string) []byte {
	return key(iMessageByEndpoint).id(ep).time(t).id(msg)
}
func messageAllKey(t time.Time, msg string) []byte { return key(iMessageAll).time(t).id(msg) }
func payloadKey(msg string) []byte                 { return key(pPayload).id(msg) }
func messageByEmailKey(email string, t time.Time, msg string) []byte {
	return key(iMessageByEmail).str(NormEmail(email)).time(t).id(msg)
}

// Merchant views at scale (store/search.go, store/tally.go, store/query.go).
const (
	// Search indexes: one key per record and day, ordered by email within
	// the day, carrying the fields lists filter on, so an email-prefix or
	// status filter is answered from keys alone, newest day first.
	iLeadSearch        = "i-lead-q:"  // <day><email>\0<time><program id><affiliate id><lead id>
	iLeadAffSearch     = "i-lead-aq:" // <affiliate id><day><email>\0<time><program id><lead id>
	iPurchaseSearch    = "i-pur-q:"   // <day><email>\0<purchased_at><program id><affiliate id|NoAffiliate><status><purchase id>
	iPurchaseAffSearch = "i-pur-aq:"  // <affiliate id><day><email>\0<purchased_at><program id><status><purchase id>

	// Tallies: per-scope daily totals (a Tally), kept on write next to the
	// r: rollups, so counts, totals and dashboards read one key per day (or
	// per block of days). An affiliate's totals over all its programs sum its
	// t-ap keys; all programs' per-affiliate blocks sum the t-blk keys.
	tAll        = "t-all:" // <day>
	tProgram    = "t-prg:" // <program id><day>
	tAffProgram = "t-ap:"  // <affiliate id|NoAffiliate><program id><day>
	tBlock      = "t-blk:" // <block (day/BlockDays)><program id><affiliate id|NoAffiliate>
)

func exportByOwnerKey(owner string, t time.Time, id string) []byte {
	return key(iExportByOwner).str(owner).time(t).id(id)
}
func exportByExpiryKey(t time.Time, id string) []byte { return key(iExportByExpiry).time(t).id(id) }

// Mail, session and account-token keys (store/mail.go, store/sessions.go).

func mailKey(id string) []byte                    { return key(pMail).id(id) }
func mailDueKey(next time.Time, id string) []byte { return key(iMailDue).time(next).id(id) }
func mailAllKey(t time.Time, id string) []byte    { return key(iMailAll).time(t).id(id) }
func mailOptOutKey(affiliateID string) []byte     { return key(pMailOptOut).id(affiliateID) }

func sessionKey(hash string) []byte { return key(pSession).str(hash) }
func sessionAccountKey(kind, account, hash string) []byte {
	return key(iSessionAccount).str(kind).id(account).str(hash)
}
func sessionExpiryKey(t time.Time, hash string) []byte { return key(iSessionExpiry).time(t).str(hash) }
func accountTokenKey(hash string) []byte               { return key(pAccountToken).str(hash) }
func accountTokenAccountKey(kind, account, hash string) []byte {
	return key(iAccountTokenAcc).str(kind).id(account).str(hash)
}
func accountTokenExpiryKey(t time.Time, hash string) []byte {
	return key(iAccountTokenExp).time(t).str(hash)
}

// The program owner's brand (store/brand.go): its settings, and the logo's
// bytes apart from them so the pages that show the name do not read the
// image. Both are meta keys, so a backup carries them.
func brandKey() []byte     { return metaKey("brand") }
func brandLogoKey() []byte { return metaKey("brand_logo") }

// retentionCursorKey holds where the privacy retention walk of a record
// kind ("clicks", "leads") resumes: a seek position after the kind's prefix
// (store/privacy.go).
func retentionCursorKey(kind string) []byte     { return metaKey("retention:" + kind) }
func eventReplyKey(kind, eventID string) []byte { return key(pEventReply).str(kind).str(eventID) }
