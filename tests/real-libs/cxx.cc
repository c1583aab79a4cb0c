// A C++ library as a C program gets it: extern "C" entry points over
// std::string, std::vector, std::map and iostreams.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

extern "C" void (*plugin_hook)(int argc, char **argv);

static std::map<std::string, int> counts;	// a static constructor runs first

static void run(int argc, char **argv)
{
	std::vector<std::string> words = { "surgeon", "keeps", "every", "old", "byte", "every", "old" };
	for (const auto &w : words)
		counts[w]++;
	std::sort(words.begin(), words.end());
	std::ostringstream out;
	for (const auto &[w, n] : counts)
		out << w << '=' << n << ' ';
	std::cout << "cxx: " << out.str() << std::endl;
	std::printf("cxx: first %s last %s argc %d\n", words.front().c_str(), words.back().c_str(), argc);
}

__attribute__((constructor)) static void init(void) { plugin_hook = run; }
