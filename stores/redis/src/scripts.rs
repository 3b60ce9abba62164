//! The Lua scripts: every multi-step operation runs as one of them, so it
//! is atomic on the server.
//!
//! Each script touches only the keys it is given, and the keys of one call
//! share a hash tag (see [`keys`](crate::keys)), so every call runs on one
//! Redis Cluster slot. Scripts are sent by SHA (`EVALSHA`); `redis::Script`
//! loads one on the node that answers `NOSCRIPT`, after a restart or a
//! failover.
//!
//! Times travel as decimal milliseconds since the epoch. Lua numbers are
//! doubles, exact for integers below 2^53 (the year 287396 in
//! milliseconds); versions and sequence numbers are compared as the
//! strings they were written as. JSON is never decoded in Lua: the fields a
//! script changes (`seen`, `ver`, `pw`, ...) sit beside the JSON record and
//! override it when read.

use std::sync::LazyLock;

use deadpool_redis::redis::Script;

/// Helpers every script starts with.
const PRELUDE: &str = r"
local function ms(x) return string.format('%.0f', x) end
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
";

/// `KEYS[1]` session; `ARGV` rec, seen, ver, idle, abs, user, expires_at.
const SESSION_CREATE: &str = r"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'seen', ARGV[2], 'ver', ARGV[3],
  'idle', ARGV[4], 'abs', ARGV[5], 'user', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
return 1
";

/// `KEYS[1]` session; `ARGV` at. Answers 1 if `seen` moved.
const SESSION_TOUCH: &str = r"
local v = redis.call('HMGET', KEYS[1], 'seen', 'idle', 'abs')
if not v[1] then return 0 end
local seen, idle, abs = tonumber(v[1]), tonumber(v[2]), tonumber(v[3])
local at = tonumber(ARGV[1])
if at >= math.min(seen + idle, abs) or at <= seen then return 0 end
redis.call('HSET', KEYS[1], 'seen', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ms(math.min(at + idle, abs)))
return 1
";

/// `KEYS[1]` session; `ARGV` expected_ver, now, rec, seen, ver, idle, abs,
/// user, expires_at. Answers nil if refused, else the old user and `abs`.
const SESSION_REPLACE: &str = r"
local v = redis.call('HMGET', KEYS[1], 'ver', 'seen', 'idle', 'abs', 'user')
if not v[1] or v[1] ~= ARGV[1] then return false end
local now = tonumber(ARGV[2])
if now >= math.min(tonumber(v[2]) + tonumber(v[3]), tonumber(v[4])) then return false end
redis.call('HSET', KEYS[1], 'rec', ARGV[3], 'seen', ARGV[4], 'ver', ARGV[5],
  'idle', ARGV[6], 'abs', ARGV[7], 'user', ARGV[8])
redis.call('PEXPIREAT', KEYS[1], ARGV[9])
return {v[5], v[4]}
";

/// `KEYS[1]` session; `ARGV` now, check_user ('1' or '0'), user, channel.
/// Deletes the record (only if it belongs to `user` when asked to check),
/// announces the end on the channel, and answers `{live, rec, seen, user}`,
/// or nil if nothing was deleted.
const SESSION_END: &str = r"
local v = redis.call('HMGET', KEYS[1], 'rec', 'seen', 'idle', 'abs', 'user')
if not v[1] then return false end
if ARGV[2] == '1' and v[5] ~= ARGV[3] then return false end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[4], 'session')
local live = 0
if tonumber(ARGV[1]) < math.min(tonumber(v[2]) + tonumber(v[3]), tonumber(v[4])) then
  live = 1
end
return {live, v[1], v[2], v[5]}
";

/// `KEYS[1]` user index; `ARGV` handle, abs. Adds or rescores a member,
/// prunes members past their deadline by the server's clock, and sets the
/// index to expire with its last member.
const INDEX_ADD: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', server_ms())
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], ms(tonumber(last[2]))) end
return 1
";

/// `KEYS[1]` user index; `ARGV` now. Prunes as above and answers the
/// handles whose absolute deadline is after `now`, soonest first.
const INDEX_READ: &str = r"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', server_ms())
return redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], '+inf', 'BYSCORE')
";

/// `KEYS[1]` user; `ARGV` hash. Answers 1 if the user exists.
const USER_SET_PASSWORD: &str = r"
if redis.call('HEXISTS', KEYS[1], 'rec') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'pw', ARGV[1])
return 1
";

/// `KEYS[1]` failures; `ARGV` now, max_failures, lockout. Answers the end
/// of the lock as a string, or nil if the name is not locked.
const LOGIN_FAILURE: &str = r"
local now, max, lockout = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local f = redis.call('HMGET', KEYS[1], 'count', 'last', 'locked')
local count, last, locked = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
if locked and now < locked then return f[3] end
if not count or locked or now >= last + lockout then count = 0 end
count = count + 1
if count >= max then
  local until_ms = ms(now + lockout)
  redis.call('HSET', KEYS[1], 'count', count, 'last', ARGV[1], 'locked', until_ms)
  redis.call('PEXPIREAT', KEYS[1], until_ms)
  return until_ms
end
redis.call('HSET', KEYS[1], 'count', count, 'last', ARGV[1])
redis.call('HDEL', KEYS[1], 'locked')
redis.call('PEXPIREAT', KEYS[1], ms(now + lockout))
return false
";

/// `KEYS` seq, log, until, target; `ARGV` kind ('user' or other), until,
/// entry JSON, not_before, channel. Appends to the log, sets the lookup key,
/// trims dead entries and publishes the new sequence number. The log's
/// keys expire with its last live entry; a log with none left is deleted.
///
/// Sequence numbers are `epoch * 2^32 + n`: a log that starts afresh (the
/// counter expired, or Redis lost its data) picks a new epoch from the
/// server's clock, so cursors into the old log are recognised as foreign.
const REVOKE: &str = r"
local E = 4294967296
local seq
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  local epoch = (tonumber(t[1]) * 1000003 + tonumber(t[2])) % 2097151 + 1
  seq = epoch * E + 1
  redis.call('SET', KEYS[1], ms(seq))
else
  seq = redis.call('INCR', KEYS[1])
end

local until_ms = math.max(tonumber(ARGV[2]), 1)
local member = ms(seq) .. ':' .. ARGV[3]
redis.call('ZADD', KEYS[2], seq, member)
redis.call('ZADD', KEYS[3], until_ms, member)

if ARGV[1] == 'user' then
  local cur = redis.call('HMGET', KEYS[4], 'nb', 'until')
  local nb, u = tonumber(ARGV[4]), until_ms
  if cur[1] then
    nb = math.max(nb, tonumber(cur[1]))
    u = math.max(u, tonumber(cur[2]))
  end
  redis.call('HSET', KEYS[4], 'nb', ms(nb), 'until', ms(u))
  redis.call('PEXPIREAT', KEYS[4], ms(u))
else
  local cur = redis.call('GET', KEYS[4])
  local u = until_ms
  if cur then u = math.max(u, tonumber(cur)) end
  redis.call('SET', KEYS[4], ms(u), 'PXAT', ms(u))
end

local dead = redis.call('ZRANGE', KEYS[3], '-inf', server_ms(), 'BYSCORE', 'LIMIT', 0, 256)
if #dead > 0 then
  redis.call('ZREM', KEYS[2], unpack(dead))
  redis.call('ZREM', KEYS[3], unpack(dead))
end
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if last[2] then
  for i = 1, 3 do redis.call('PEXPIREAT', KEYS[i], ms(tonumber(last[2]))) end
else
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
end

redis.call('PUBLISH', ARGV[5], ms(seq))
return ms(seq)
";

/// `KEYS` seq, log; `ARGV` cursor. Answers `{current, reset, entries}`.
const REVOCATIONS_SINCE: &str = r"
local E = 4294967296
local cur = redis.call('GET', KEYS[1])
local current = tonumber(cur or '0')
local cursor = tonumber(ARGV[1])
local reset = 0
local from = '-inf'
if cursor ~= 0 then
  if current == 0 or math.floor(cursor / E) ~= math.floor(current / E) or cursor > current then
    reset = 1
  else
    from = '(' .. ARGV[1]
  end
end
return {cur or '0', reset, redis.call('ZRANGE', KEYS[2], from, '+inf', 'BYSCORE')}
";

/// `KEYS` jti, sid, user; `ARGV` now, issued_at (seconds). Answers 1 if
/// any live entry denies the token.
const IS_REVOKED: &str = r"
local now = tonumber(ARGV[1])
local j = redis.call('GET', KEYS[1])
if j and now < tonumber(j) then return 1 end
local s = redis.call('GET', KEYS[2])
if s and now < tonumber(s) then return 1 end
local u = redis.call('HMGET', KEYS[3], 'nb', 'until')
if u[1] and now < tonumber(u[2])
  and tonumber(ARGV[2]) < math.floor(tonumber(u[1]) / 1000) then
  return 1
end
return 0
";

/// Every script, compiled once (the SHA1 is computed here).
pub(crate) struct Scripts {
    pub(crate) session_create: Script,
    pub(crate) session_touch: Script,
    pub(crate) session_replace: Script,
    pub(crate) session_end: Script,
    pub(crate) index_add: Script,
    pub(crate) index_read: Script,
    pub(crate) user_set_password: Script,
    pub(crate) login_failure: Script,
    pub(crate) revoke: Script,
    pub(crate) revocations_since: Script,
    pub(crate) is_revoked: Script,
}

/// The scripts, shared by every store in the process.
pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    let script = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
    Scripts {
        session_create: script(SESSION_CREATE),
        session_touch: script(SESSION_TOUCH),
        session_replace: script(SESSION_REPLACE),
        session_end: script(SESSION_END),
        index_add: script(INDEX_ADD),
        index_read: script(INDEX_READ),
        user_set_password: script(USER_SET_PASSWORD),
        login_failure: script(LOGIN_FAILURE),
        revoke: script(REVOKE),
        revocations_since: script(REVOCATIONS_SINCE),
        is_revoked: script(IS_REVOKED),
    }
});
