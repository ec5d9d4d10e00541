/* Test program: shows one ordinary window titled TITLE and keeps it up for SECONDS seconds
   (a stand-in for a CRM's customer list). Usage: crm_window TITLE SECONDS */
#include <windows.h>

static LRESULT CALLBACK proc(HWND w, UINT m, WPARAM wp, LPARAM lp) {
    if (m == WM_DESTROY) PostQuitMessage(0);
    return DefWindowProcW(w, m, wp, lp);
}

int wmain(int argc, wchar_t **argv) {
    if (argc < 3) return 2;
    WNDCLASSW wc = {0};
    wc.lpfnWndProc = proc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = L"WorktraceTestCrm";
    wc.hbrBackground = (HBRUSH)(COLOR_WINDOW + 1);
    RegisterClassW(&wc);
    HWND w = CreateWindowExW(0, wc.lpszClassName, argv[1], WS_OVERLAPPEDWINDOW | WS_VISIBLE,
                             40, 40, 480, 320, NULL, NULL, wc.hInstance, NULL);
    if (!w) return 3;
    SetTimer(w, 1, (UINT)_wtoi(argv[2]) * 1000, NULL);
    MSG msg;
    while (GetMessageW(&msg, NULL, 0, 0) > 0) {
        if (msg.message == WM_TIMER) break;
        TranslateMessage(&msg);
        DispatchMessageW(&msg);
    }
    return 0;
}
