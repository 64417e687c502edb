-- The README's example job runs, unchanged, against a replay transcript
-- recorded from ec20sim (spec/transcripts/record.lua re-records it).
local example = require "support.readme_example"
local replay = require "support.replay"

describe("README example", function()
	after_each(function() replay.assert_all_closed() end)

	it("runs against spec/transcripts/readme.txt", function()
		local f = assert(io.open("spec/transcripts/readme.txt", "rb"))
		local text = f:read("a")
		f:close()
		local port = assert(text:match('AT%+QFTPOPEN="127%.0%.0%.1",(%d+)'))
		local out = {}
		example.run({ PORT = "replay:spec/transcripts/readme.txt", FTP_HOST = "127.0.0.1",
			FTP_PORT = tonumber(port), FTP_PASSWORD = "any: the transcript holds \\* for it" }, out)
		assert.equal("file\t23\thello.txt", out[1])
		assert.matches("^nil\tsize missing%.txt: 627 .*FTP 550", out[2])
	end)

	it("fails with the transcript line when the job changes", function()
		local ok, err = pcall(example.run, { PORT = "replay:spec/transcripts/readme.txt", FTP_HOST = "10.0.0.1",
			FTP_PORT = 21, FTP_PASSWORD = "x" }, {})
		assert.is_false(ok)
		assert.matches('expected AT%+QFTPOPEN="127%.0%.0%.1"', tostring(err))
		assert.matches('got AT%+QFTPOPEN="10%.0%.0%.1",21', tostring(err))
		collectgarbage() -- the example stopped at its assert: its port is garbage, closed by __gc
	end)
end)
