/* Test program: posts WM_WTSSESSION_CHANGE to the Worktrace agent's hidden window, as Windows
 * does after WTSRegisterSessionNotification when the session is locked (7), unlocked (8),
 * logged off (6)... Wine never sends these itself.
 * Usage: post_session_change CODE. Exit 0: posted; 2: no agent window; 3: PostMessage failed. */
#include <windows.h>
#include <stdlib.h>

#ifndef WM_WTSSESSION_CHANGE
#define WM_WTSSESSION_CHANGE 0x02B1
#endif

int wmain(int argc, wchar_t **argv)
{
    if (argc != 2)
        return 1;
    HWND window = FindWindowW(L"WorktraceAgentSession", NULL);
    if (!window)
        return 2;
    if (!PostMessageW(window, WM_WTSSESSION_CHANGE, (WPARAM)_wtoi(argv[1]), 1))
        return 3;
    return 0;
}
