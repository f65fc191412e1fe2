-- Fan-out consumer groups (the pubsub-fanout component: one group per pod of an app whose every
-- replica must see every event). Run once per pod before its daprd starts: by the pod's init
-- container in the cluster (templates/apps.yaml), by the launcher locally (scripts/mesh/fanout.ts).
--   KEYS     the streams (topics) the app subscribes to
--   ARGV[1]  this pod's group (its pod name: Dapr's consumerID "{podName}")
--   ARGV[2]  the prefix every pod of the app shares: the groups this script may remove
--   ARGV[3]  milliseconds without any read after which a pod's group is taken for gone
-- 1. The pod's group is made at the stream's end ("$"): Dapr would make it at the start ("0") and
--    replay the whole history to a new replica. Its consumer (Dapr reads as consumer = group) is
--    made with it, so the group's inactivity is measured from now. A group that exists already
--    (the same pod started again) keeps its position: what came while it was down is delivered.
-- 2. The groups of pods that are gone are removed: every consumer inactive for ARGV[3] (a live
--    daprd polls its group every few seconds), or no consumer at all. Redis before 7.2 reports no
--    `inactive` time (its `idle` counts from the last delivery, long on a quiet topic): nothing is
--    removed there. Returns the number of groups removed.
local function field(list, name)
  for i = 1, #list, 2 do
    if list[i] == name then return list[i + 1] end
  end
  return nil
end

local own, prefix, gone_after = ARGV[1], ARGV[2], tonumber(ARGV[3])
local removed = 0
for _, stream in ipairs(KEYS) do
  local made = redis.pcall('XGROUP', 'CREATE', stream, own, '$', 'MKSTREAM')
  if type(made) == 'table' and made.err and not string.find(made.err, 'BUSYGROUP') then
    return redis.error_reply(made.err)
  end
  redis.call('XGROUP', 'CREATECONSUMER', stream, own, own)
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local group = field(info, 'name')
    if group ~= own and string.sub(group, 1, #prefix) == prefix then
      local stale = true
      for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
        local inactive = field(consumer, 'inactive')
        if inactive == nil or inactive < 0 or inactive < gone_after then stale = false end
      end
      if stale then
        redis.call('XGROUP', 'DESTROY', stream, group)
        removed = removed + 1
      end
    end
  end
end
return removed
