// --replace work=work_fixed: the added frame lies between risky's throw and
// main's catch.
extern "C" int risky(int n);
extern "C" int work_fixed(int n)
{
	int r = risky(n);

	return r + 100;
}
