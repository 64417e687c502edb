-- Re-record the transcripts that replay specs use, against ec20sim and a
-- local FTP server:   make all && lua5.4 spec/transcripts/record.lua
-- (LUA_PATH/LUA_CPATH as in scripts/run-tests). Passwords come out as \*.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;" .. package.path
package.cpath = "build/lib/?.so;" .. package.cpath
local sim = require "support.sim"
local example = require "support.readme_example"
local modemftp = require "modemftp"

local h = sim.start { guard_ms = 100 }
local ok, err = pcall(function()
	-- the README example, recorded through the real recorder
	local open = modemftp.open
	modemftp.open = function(port, opts)
		opts = opts or {}
		opts.record = "spec/transcripts/readme.txt"
		return open(port, opts)
	end
	local out = {}
	example.run({ PORT = h.port, FTP_HOST = "127.0.0.1", FTP_PORT = h.ftp_port, FTP_PASSWORD = h.password }, out)
	modemftp.open = open
	print(table.concat(out, "\n"))
end)
sim.stop(h)
assert(ok, err)
print("wrote spec/transcripts/readme.txt")
