/* Test program: puts ROWS tab-separated rows of four columns on the clipboard as
   CF_UNICODETEXT, the way a spreadsheet copies a range, each row starting with MARKER; then
   keeps the clipboard for HOLD_MS milliseconds and exits 0.
   Usage: set_clipboard_rows ROWS MARKER HOLD_MS */
#include <windows.h>
#include <stdio.h>

int wmain(int argc, wchar_t **argv) {
    if (argc < 4) return 2;
    int rows = _wtoi(argv[1]);
    const wchar_t *marker = argv[2];
    size_t cap = (size_t)rows * 160 + 1;
    HGLOBAL mem = GlobalAlloc(GMEM_MOVEABLE, cap * sizeof(wchar_t));
    if (!mem) return 3;
    wchar_t *text = GlobalLock(mem);
    size_t n = 0;
    for (int i = 0; i < rows; i++)
        n += swprintf(text + n, cap - n, L"%ls-%d\tclient%d@example.com\t+49 30 %07d\tBerlin\r\n",
                      marker, i, i, i);
    GlobalUnlock(mem);
    HWND owner = CreateWindowExW(0, L"STATIC", L"set_clipboard_rows", 0, 0, 0, 0, 0,
                                 HWND_MESSAGE, NULL, NULL, NULL);
    if (!owner || !OpenClipboard(owner)) return 4;
    EmptyClipboard();
    if (!SetClipboardData(CF_UNICODETEXT, mem)) return 5;
    CloseClipboard();
    Sleep(_wtoi(argv[3]));
    return 0;
}
